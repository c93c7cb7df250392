"""The top layer: what combines several apps and belongs to none of them (the demo data).

Nothing imports ``pages``; it may import every other app.
"""
