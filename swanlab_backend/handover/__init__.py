"""Between the two processes: how the training hands its data to the writer process, and waits for it.

Training side: ``writer_process`` (starts the writer, :class:`~.writer_process.RemoteRun` is the run
the backend logs to, waits for it at the end), ``background`` (a thread for the work that needs the
training's objects but not its training thread), ``console_capture`` (the training's console, copied
for the run). Both sides: ``journal`` (the training writes it, the writer reads it), ``spool`` (the
folder journals wait in), ``writer_output`` (the writer prepares its output file, the training shows
it); they live here because they are the hand-over itself, plain data and files, no SwanLab and no
MMEngine runner. SwanLab is never imported here. Importing this folder imports nothing.
"""
