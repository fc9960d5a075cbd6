"""Training side: what runs inside MMEngine's training process, on its runner.

The visualization backend (``vis_backend``), its hook (``hook``) and how they find the runner
(``runner_link``, ``runner_follower``, ``run_links``), the config's checks and logging
(``config_check``, ``validation``, ``config_logging``, ``registration``), metric keys and values
(``metrics``), the checkpoint ledger (``checkpoints``), the environment the run describes
(``environment``) and the process's exits (``run_exits``). SwanLab itself is never imported here: it
runs in the writer process (:mod:`swanlab_backend.writer`), which this side reaches through
:mod:`swanlab_backend.handover`. Importing this folder imports nothing; its modules import MMEngine.
"""
