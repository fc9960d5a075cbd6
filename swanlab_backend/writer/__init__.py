"""Writer side: the writer process, the one place that talks to SwanLab (init, log, finish).

``run_writer`` reads the journal and owns the SwanLab run, ``run_lifecycle`` starts and finishes it,
``training_view`` makes the run describe the training process, ``local_store`` tunes SwanLab's local
store, ``replay`` writes journals left behind. The process starts without the package's
``__init__`` (:data:`swanlab_backend.handover.writer_process.BOOTSTRAP`), and nothing here imports
torch, MMEngine beyond ``mmengine.logging`` (the writer's log file), or the training side's folders
(``mmengine``, ``tools``, ``insights``): ``tests/hygiene/test_process_boundary.py`` says so. This
``__init__`` imports nothing; if the writer cannot start, the training runs the same loop in a thread.
"""
