"""Performance assessment (绩效考评), satisfaction ratings (好差评) and the community stations'
comprehensive evaluation (社区综合考评).

- Monthly scores per unit, department, window and staff member: 100 points plus or minus items, each
  item (:class:`~sanji.evaluation.models.ScoreItem`) linking to the mark, case or rating behind it.
- Ratings: one per completed case, five levels (非常满意 … 非常不满意); the two lowest open a follow-up
  (整改回访) for the responsible unit, watched by supervision through this app's sweep step.
- Community evaluation: monthly indicators per community station, ranked within each district.

Evaluation reads supervision's marks and orders and raises marks through supervision's services;
supervision never imports this app.
"""
