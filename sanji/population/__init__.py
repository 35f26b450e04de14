"""Population base database (人口基础信息库): people, households and the places they live.

Places run community (社区, an ``orgs.Region``) → grid (网格) → building (楼栋) → household (户,
with its unit 单元 and room 室 numbers); people belong to a household and carry their registered
residence (户籍) as well as where they actually live (实有人口). ID numbers are encrypted at rest
with a keyed blind index for exact look-ups. Bulk import, a synthetic generator for Hohhot and the
spatial selectors live here; changes with police verification build on these models.
"""
