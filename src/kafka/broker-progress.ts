// Turns the broker's own log-loading lines into a few progress lines for the user, and tells start-up when the broker last made progress.

/** What one broker output line means for start-up. */
export interface BrokerLineVerdict {
  /** The line to show the user instead of the raw one, or null to show nothing. */
  readonly show: string | null;
  /** True if the line shows the broker moving forward (a log loaded, recovery started or done). */
  readonly progress: boolean;
}

/** How often, at most, a "loaded N of M logs" line is shown while logs load. */
export const LOAD_PROGRESS_EVERY_MS = 10_000;

const LOG_MANAGER = /\(kafka\.log\.LogManager\)\s*$/;
const RECOVERING = /Recovering (\d+) logs from (\S+) since no clean shutdown file was found/;
const COMPLETED = /Completed load of .* \((\d+)\/(\d+) completed in /;
const LOADED = /Loaded (\d+) logs in (\d+)ms/;
const SHUTDOWN_NOISE = /ControllerServer\.raftManager\(\)" is null|Unexpected error handling request RequestHeader\(apiKey=API_VERSIONS|Received error UNKNOWN_SERVER_ERROR from node \d+ when making an ApiVersionsRequest/;
const STACK_FRAME = /^\s+(at |\.\.\. \d+ more)|^Caused by: /;

/**
 * Reads the broker's output line by line. Kafka's LogManager prints one line per topic-partition
 * log it loads (thousands on a data dir kept between runs); after an unclean stop (a SIGKILL, a
 * closed terminal) it first recovers every log, which on a loaded machine takes minutes. Those
 * lines are summarised (a recovery notice, "loaded N of M" at most every {@link LOAD_PROGRESS_EVERY_MS},
 * the total), the rest of LogManager's INFO lines are hidden, and every other line passes unchanged.
 */
export class BrokerStartProgress {
  private lastShownMs = -Infinity;
  private stopping = false;
  private hidingStack = false;
  private hiddenNoise = 0;

  /**
   * Called when the broker is sent SIGTERM. From then on, the errors of its own broker half asking
   * its already-stopped controller for API versions (a NullPointerException on
   * `ControllerServer.raftManager()`, a few per second until it exits) are Kafka's shutdown noise:
   * they are counted, not shown, so the real reason a start failed stays readable.
   */
  stopRequested(): void {
    this.stopping = true;
  }

  /** How many shutdown-noise lines (with their stack frames) were hidden. */
  get hiddenShutdownNoise(): number {
    return this.hiddenNoise;
  }

  /**
   * @param line one line of the broker's stdout or stderr
   * @param nowMs the current time, in milliseconds (throttles the "loaded N of M" lines)
   */
  read(line: string, nowMs: number): BrokerLineVerdict {
    if (this.stopping) {
      if (SHUTDOWN_NOISE.test(line)) {
        this.hidingStack = true;
        this.hiddenNoise++;
        return { show: null, progress: false };
      }
      if (this.hidingStack && STACK_FRAME.test(line)) return { show: null, progress: false };
      this.hidingStack = false;
    }
    if (!LOG_MANAGER.test(line)) return { show: line, progress: false };
    const recovering = RECOVERING.exec(line);
    if (recovering) {
      this.lastShownMs = nowMs;
      return {
        show: `The broker's last stop was not clean (killed?): Kafka recovers all ${recovering[1]} topic-partition logs in ${recovering[2]} before it serves clients; with many topics this takes a while.`,
        progress: true,
      };
    }
    const completed = COMPLETED.exec(line);
    if (completed) {
      if (nowMs - this.lastShownMs < LOAD_PROGRESS_EVERY_MS) return { show: null, progress: true };
      this.lastShownMs = nowMs;
      return { show: `Loading logs: ${completed[1]} of ${completed[2]} done`, progress: true };
    }
    const loaded = LOADED.exec(line);
    if (loaded) return { show: `Loaded ${loaded[1]} logs in ${(Number(loaded[2]) / 1000).toFixed(1)} s`, progress: true };
    return { show: null, progress: false };
  }
}
