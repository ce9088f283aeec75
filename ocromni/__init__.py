"""ocromni: read, question and rewrite the text in documents and photos.

    >>> import ocromni
    >>> pages = ocromni.recognize(["receipt.png"])
    >>> print(pages[0].text)

Every function mirrors a command of the ``ocromni`` CLI and shares one lazily loaded
model per process (see :mod:`ocromni.engine`).
"""

__version__ = "0.1.0"

_API = ("detect", "recognize", "ask", "caption", "render_text", "erase", "edit", "get_engine")


def __getattr__(name):
    # Keep `import ocromni` (and so `ocromni --help`) free of numpy/onnxruntime/torch.
    if name in _API:
        from ocromni import api

        return getattr(api, name)
    raise AttributeError(f"module 'ocromni' has no attribute {name!r}")


__all__ = list(_API)
