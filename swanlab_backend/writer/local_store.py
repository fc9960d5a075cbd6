"""Writer side: SwanLab's local store asks whether the experiment was stopped once per batch of values.

In local mode SwanLab's store (``swanlab.deprecated.local.LocalCallbacker``) reads the
experiment's row from its database before every single value, to notice a run stopped
or deleted from the dashboard; that query is most of what a value costs it. The store
receives the values in batches (one per flush of SwanLab's queue), and asking once per
batch notices the stop just as soon: the values of the batch after it are dropped, as
before. Every value is still written (``tests/test_local_store.py``; the cost is in
``bench/README.md``).

A SwanLab without this class keeps its own behaviour: this only saves time.
"""


def check_stops_once_per_batch() -> None:
    try:
        from swanlab.deprecated.local import LocalCallbacker
        check = LocalCallbacker._check_exp_status
        flushes = {name: getattr(LocalCallbacker, name) for name in ('on_scalar_flush', 'on_media_flush')}
    except (ImportError, AttributeError):
        return
    if getattr(LocalCallbacker, '_checks_once_per_batch', False):
        return

    def once_per_batch(flush):
        def flush_batch(self, records, *args, **kwargs):
            check(self)
            self._check_exp_status = _checked  # the instance's, for this batch: its values ask no more
            try:
                flush(self, records, *args, **kwargs)
            finally:
                del self._check_exp_status
        return flush_batch

    for name, flush in flushes.items():
        setattr(LocalCallbacker, name, once_per_batch(flush))
    LocalCallbacker._checks_once_per_batch = True


def _checked() -> None:
    """Stands in for the status check within a batch whose status was checked."""
