"""Sharing of the population base database (人口基础信息共享) by purpose.

Departments read people through :func:`sanji.sharing.selectors.person_get_for` with a stated
purpose: name and ID number are unconditional (国发〔2016〕51号), other fields only under an
unexpired, unrevoked :class:`~sanji.sharing.models.SharingGrant` of the reader's department that
names them. Every read leaves an :class:`~sanji.sharing.models.AccessRecord` that the resident sees
on the portal ("who read my record"). Population staff search people, open a person's page and
unmask an ID number for a stated purpose here too (recorded the same way).
"""
