"""One module per upstream channel: a small client for raw HTTP and a ``fetch`` into :class:`Post`."""
