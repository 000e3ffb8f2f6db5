"""The web dashboard the hub serves (--dashboard-listen): server.py (routes, the event
stream), model.py (the rows every browser shares), views.py (pure JSON shaping), static/ (the
page: HTML and one vanilla JS module, shipped as package data).
"""
