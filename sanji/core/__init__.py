"""Core: the clock, the actor, the one authorisation mechanism and the domain errors.

Every other app imports from here; core imports no other Sanji app.
"""
