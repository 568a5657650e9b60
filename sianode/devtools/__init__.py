"""Developer tools: checks of the code itself (not used by the library at run time).

``python -m sianode.devtools.layers`` checks that imports point down the layers and form
no cycle (:mod:`sianode.devtools.layers`).
"""
