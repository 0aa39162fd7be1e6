// When the reader of stdout goes away (`kindling ... | head`), stop with a message instead of an unhandled EPIPE.

/** The shell's status for a process ended by SIGPIPE (128 + 13), what `yes | head` leaves in PIPESTATUS. */
export const STDOUT_CLOSED_EXIT = 141;

/**
 * Installs the handler: on EPIPE, says what happened on stderr and exits STDOUT_CLOSED_EXIT (the reader
 * is gone, so there is no one left to write rows to); other stdout errors are rethrown as before.
 */
export function stopWhenStdoutCloses(log: (line: string) => void, exit: (code: number) => never = process.exit): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    log('kindling: stdout was closed by its reader (EPIPE, e.g. `| head`); stopping');
    exit(STDOUT_CLOSED_EXIT);
  });
}
