"""Population pages.

Changes (人口变动) and police verification (公安核查): the population data officer or grid worker
submits a change (finding the person by ID number, shown masked) and follows "my changes"; the
police verifier works the queue of the area, oldest first, and decides each change on a page
showing the facts before and after side by side. Thin: parse, one service or selector call,
render. Outside the actor's area a change is a 404; a decision that lost a race (decided meanwhile,
or the person changed since submission) is shown as a 409 with what happened.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sanji.core.actors import Actor, actor_of
from sanji.core.errors import Conflict, Forbidden, NotFound, SanjiError
from sanji.core.pages import found
from sanji.population import change_forms, change_values, policies, selectors, services
from sanji.population.models import ChangeKind, ChangeState

# --- changes (人口变动) ------------------------------------------------------------------------------

CHANGE_DECISIONS = ("verify", "reject", "withdraw")


def _change_user(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    if not policies.can_use_changes(actor):
        raise PermissionDenied
    return actor


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@login_required
@require_GET
def change_list(request: HttpRequest) -> HttpResponse:
    """The verifier's queue (待核查, oldest first) or the submitter's own changes, by state."""
    actor = _change_user(request)
    verifier = policies.can_verify_changes(actor)
    tab = request.GET.get("tab") or ("queue" if verifier else "mine")
    if tab not in ("queue", "mine") or (tab == "queue" and not verifier):
        raise Http404
    state = request.GET.get("state", "")
    if state and state not in ChangeState.values:
        raise Http404
    result = selectors.change_list_for(
        actor, state=state or None, page=_page_number(request.GET.get("page")), mine=tab == "mine"
    )
    return render(
        request,
        "population/change_list.html",
        {
            "result": result,
            "tab": tab,
            "state": state,
            "states": [(s.value, s.label) for s in ChangeState],
            **policies.nav(actor),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def change_new(request: HttpRequest) -> HttpResponse:
    """申报人口变动: choose the kind, find the person by ID number (births and move-ins name nobody),
    fill the values, submit. The ID number travels only in POST bodies and the page shows it
    masked; the found person is carried by id. Problems come back from the service, each beside
    its input."""
    actor = _change_user(request)
    if not policies.can_submit_changes(actor):
        raise PermissionDenied
    params = request.POST if request.method == "POST" else request.GET
    kind = params.get("kind", "")
    if kind and kind not in ChangeKind.values:
        raise Http404
    step = request.POST.get("step", "") if request.method == "POST" else ""
    needs_person = bool(kind) and kind not in change_values.NEW_PERSON_KINDS
    person = None
    lookup_error = ""
    not_found = _("未找到此身份号码的人员（或不在您的辖区内）。")
    waiting: dict[str, Any] | None = None
    if needs_person and step == "find":
        try:
            person = selectors.person_find_by_id_number(actor, request.POST.get("lookup", ""))
        except NotFound:
            lookup_error = not_found
        else:
            # One open change per person: said as soon as the person is found, not after the form.
            waiting = services.waiting_change_problem(person, b"")
    elif needs_person and step == "submit":
        try:
            person = selectors.person_get_for(actor, int(request.POST.get("person_id", "")))
        except (NotFound, ValueError):
            lookup_error = not_found
    errors: dict[str, str] = {}
    problems: list[str] = []
    status = 404 if lookup_error and step == "submit" else 200
    if step == "submit" and kind and not lookup_error:
        try:
            change = services.change_submit(
                actor=actor,
                kind=kind,
                person_id=person.pk if person is not None else None,
                values=change_forms.values_from(kind, request.POST),
                reason=request.POST.get("reason", ""),
                evidence=request.POST.get("evidence", ""),
            )
        except NotFound:
            lookup_error, status = not_found, 404
        except SanjiError as exc:
            status = exc.status
            problems.append(exc.message)
            for detail in exc.details if isinstance(exc.details, list) else []:
                errors[str(detail.get("field", ""))] = str(detail.get("reason", ""))
        else:
            messages.success(request, _("已提交人口变动申报，等待公安核查。"))
            return redirect("population:change_detail", change_id=change.pk)
    show_inputs = bool(kind) and (not needs_person or person is not None) and waiting is None
    data = request.POST if step == "submit" else {}
    return render(
        request,
        "population/change_new.html",
        {
            "kinds": change_forms.kinds(),
            "kind": kind,
            "needs_person": needs_person,
            "person": person,
            "lookup_error": lookup_error,
            "inputs": change_forms.inputs_for(
                kind, data, errors, change_forms.current_values(person) if person is not None else None
            )
            if show_inputs
            else [],
            "person_error": errors.get("person_id", ""),
            "other_errors": {k: v for k, v in errors.items() if k in ("values", "kind")},
            "reason": data.get("reason", ""),
            "evidence": data.get("evidence", ""),
            "problems": problems,
            "waiting": waiting,
            **policies.nav(actor),
        },
        status=status,
    )


def _change_detail(actor: Actor, change_id: int) -> selectors.ChangeDetail:
    return found(lambda: selectors.change_detail_for(actor, change_id))


def _render_change(
    request: HttpRequest, actor: Actor, detail: selectors.ChangeDetail, *, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "population/change_detail.html",
        {"d": detail, "change": detail.change, "error": error, **policies.nav(actor)},
        status=status,
    )


@login_required
@require_GET
def change_detail(request: HttpRequest, change_id: int) -> HttpResponse:
    """A change: the facts before and after side by side (and today's after the decision)."""
    actor = _change_user(request)
    return _render_change(request, actor, _change_detail(actor, change_id))


@login_required
@require_POST
def change_decide(request: HttpRequest, change_id: int, action: str) -> HttpResponse:
    """核准 (verify and apply), 退回 (reject, with the reason) or 撤回 (the submitter withdraws)."""
    actor = _change_user(request)
    if action not in CHANGE_DECISIONS:
        raise Http404
    detail = _change_detail(actor, change_id)
    expected = request.POST.get("expected_state", "")
    reason = request.POST.get("reason", "")
    try:
        if action == "verify":
            services.change_verify(actor=actor, change_id=change_id, expected_state=expected)
        elif action == "reject":
            services.change_reject(actor=actor, change_id=change_id, reason=reason, expected_state=expected)
        else:
            services.change_withdraw(actor=actor, change_id=change_id, reason=reason, expected_state=expected)
    except NotFound:
        raise Http404 from None
    except Forbidden:
        raise PermissionDenied from None
    except Conflict as exc:
        return _render_change(
            request, actor, _change_detail(actor, change_id), error=exc.message, status=exc.status
        )
    except SanjiError as exc:
        return _render_change(request, actor, detail, error=exc.message, status=exc.status)
    done = {"verify": _("已核准，人口信息已更新。"), "reject": _("已退回。"), "withdraw": _("已撤回。")}
    messages.success(request, done[action])
    return redirect("population:change_detail", change_id=change_id)


# --- the population map and the grid worker's page (人口地图, 我的网格) ------------------------------


def _map_int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        raise Http404 from None


def _map_data(layer: selectors.MapLayer, selected: str) -> dict[str, Any]:
    """What map.js draws: the layer's GeoJSON, each area's density, buildings, and where clicks go."""
    return {
        "region": layer.code,
        "level": layer.level,
        "selected": selected,
        "geojson": layer.geojson,
        "areas": [
            {
                "name": a.code,
                "label": a.name,
                "kind": a.kind,
                "grid": a.grid_id,
                "value": a.density,
                "residents": a.residents,
                "area": a.area_km2,
            }
            for a in layer.areas
        ],
        "points": [
            {"id": p.building_id, "label": p.address, "value": [p.lon, p.lat, p.residents]}
            for p in layer.points
        ],
        "urls": {
            "region": reverse("population:map") + "?region=",
            "grid": reverse("population:map_grid", args=[0]),
            "building": reverse("population:map_building", args=[0]),
        },
    }


@login_required
@require_GET
def population_map(request: HttpRequest) -> HttpResponse:
    """The population map (人口分布图): density by community, drill down to grids, buildings, residents.

    ``?region=CODE`` opens a region (default: the narrowest one covering the viewer's reach);
    ``?grid=ID`` opens the grid's community with that grid's buildings listed; ``?building=ID``
    opens the building's grid with the building's residents below (a person's 在地图上查看).
    """
    actor = actor_of(request)
    grid_id = _map_int(request.GET.get("grid"))
    building_id = _map_int(request.GET.get("building"))
    building = None
    if building_id is not None:
        building = found(lambda: selectors.building_residents_for(actor, building_id))
        grid_id = building.building.grid_id
    grid = points = None
    if grid_id is not None:
        grid, points = found(lambda: selectors.grid_buildings_for(actor, grid_id))
        region_code = grid.community.code
    else:
        region_code = request.GET.get("region") or found(lambda: selectors.map_default_region(actor))
    layer = found(lambda: selectors.map_layer_for(actor, region_code))
    return render(
        request,
        "population/map.html",
        {
            "layer": layer,
            "map_data": _map_data(layer, grid.code if grid else ""),
            "grid": grid,
            "points": points,
            "data": building,
            **policies.nav(actor),
        },
    )


@login_required
@require_GET
def map_grid(request: HttpRequest, grid_id: int) -> HttpResponse:
    """A grid's buildings with resident counts (a fragment of the map page)."""
    actor = actor_of(request)
    grid, points = found(lambda: selectors.grid_buildings_for(actor, grid_id))
    if not request.headers.get("HX-Request"):
        return redirect(f"{reverse('population:map')}?grid={grid.pk}")
    return render(request, "population/map_grid.html", {"grid": grid, "points": points})


@login_required
@require_GET
def map_building(request: HttpRequest, building_id: int) -> HttpResponse:
    """A building's residents (masked IDs) for people readers, its count for everyone else."""
    actor = actor_of(request)
    data = found(lambda: selectors.building_residents_for(actor, building_id))
    template = (
        "population/map_building.html"
        if request.headers.get("HX-Request")
        else "population/map_building_page.html"
    )
    return render(request, template, {"data": data, **policies.nav(actor)})


@login_required
@require_GET
def grid_home(request: HttpRequest) -> HttpResponse:
    """The grid worker's page (我的网格): my grids with their buildings and residents."""
    actor = actor_of(request)
    if not policies.can_use_grid_page(actor):
        raise Http404
    return render(
        request, "population/grid.html", {"grids": selectors.my_grids_for(actor), **policies.nav(actor)}
    )


@login_required
@require_GET
def grid_detail(request: HttpRequest, grid_id: int) -> HttpResponse:
    """One of my grids: its buildings; a building's residents open beside them."""
    actor = actor_of(request)
    if not policies.can_use_grid_page(actor):
        raise Http404
    grid, points = found(lambda: selectors.grid_buildings_for(actor, grid_id))
    return render(
        request, "population/grid_detail.html", {"grid": grid, "points": points, **policies.nav(actor)}
    )


# --- end of the map and grid pages ----------------------------------------------------------------
