// The broker's start-up progress lines: log recovery summarised and throttled, shutdown noise hidden once a stop was asked (lines recorded from Kafka 4.1.2).
import { describe, expect, it } from 'vitest';
import { BrokerStartProgress, LOAD_PROGRESS_EVERY_MS } from '../../src/kafka/broker-progress.js';

// Recorded from a broker restarted after a SIGKILL on a data dir with 1,000 two-partition topics.
const RECOVERING = '[13:53:43,589] INFO Recovering 2001 logs from /tmp/d2/data since no clean shutdown file was found (kafka.log.LogManager)';
const completed = (n: number): string =>
  `[13:53:43,676] INFO Completed load of Log(dir=/tmp/d2/data/fill-717-1, topicId=HMjiyeqOQCqKmXMfy3x3Cw, topic=fill-717, partition=1, highWatermark=0, lastStableOffset=0, logStartOffset=0, logEndOffset=2) with 1 segments, local-log-start-offset 0 and log-end-offset 2 in 57ms (${n}/2001 completed in /tmp/d2/data) (kafka.log.LogManager)`;
const LOADED = '[13:54:16,156] INFO Loaded 2001 logs in 32831ms (unclean log dirs = ArrayBuffer(/tmp/d2/data)) (kafka.log.LogManager)';
const OTHER_LOG_MANAGER = '[13:53:43,317] INFO Loading logs from log dirs ArrayBuffer(/tmp/d2/data) (kafka.log.LogManager)';
const STARTED = '[13:54:20,637] INFO [KafkaRaftServer nodeId=1] Kafka Server started (kafka.server.KafkaRaftServer)';
// What the broker prints a few times a second when it is stopped while it starts.
const NOISE = [
  '[13:57:33,110] ERROR [ControllerApis nodeId=1] Unexpected error handling request RequestHeader(apiKey=API_VERSIONS, apiVersion=4, clientId=1, correlationId=488, headerVersion=2) -- ApiVersionsRequestData(clientSoftwareName=\'apache-kafka-java\', clientSoftwareVersion=\'4.1.2\') (kafka.server.ControllerApis)',
  'java.lang.NullPointerException: Cannot invoke "kafka.raft.KafkaRaftManager.client()" because the return value of "kafka.server.ControllerServer.raftManager()" is null',
  '\tat kafka.server.ControllerServer.$anonfun$startup$7(ControllerServer.scala:159)',
  '\tat org.apache.kafka.server.SimpleApiVersionManager.features(SimpleApiVersionManager.java:83)',
  '[13:57:33,111] WARN [NodeToControllerChannelManager id=1 name=heartbeat] Received error UNKNOWN_SERVER_ERROR from node 1 when making an ApiVersionsRequest with correlation id 488. Disconnecting. (org.apache.kafka.clients.NetworkClient)',
];

describe('BrokerStartProgress', () => {
  it('says a recovery after an unclean stop is under way, with the number of logs and the folder', () => {
    const v = new BrokerStartProgress().read(RECOVERING, 0);
    expect(v.progress).toBe(true);
    expect(v.show).toContain('not clean');
    expect(v.show).toContain('2001 topic-partition logs in /tmp/d2/data');
  });

  it('shows "N of M" at most once per interval, yet counts every loaded log as progress', () => {
    const p = new BrokerStartProgress();
    p.read(RECOVERING, 0);
    const early = p.read(completed(1), 1);
    expect(early).toEqual({ show: null, progress: true });
    expect(p.read(completed(300), LOAD_PROGRESS_EVERY_MS).show).toBe('Loading logs: 300 of 2001 done');
    expect(p.read(completed(301), LOAD_PROGRESS_EVERY_MS + 1).show).toBeNull();
    expect(p.read(LOADED, LOAD_PROGRESS_EVERY_MS + 2)).toEqual({ show: 'Loaded 2001 logs in 32.8 s', progress: true });
  });

  it('hides LogManager\'s other INFO lines and passes every other line unchanged', () => {
    const p = new BrokerStartProgress();
    expect(p.read(OTHER_LOG_MANAGER, 0)).toEqual({ show: null, progress: false });
    expect(p.read(STARTED, 0)).toEqual({ show: STARTED, progress: false });
  });

  it('shows the controller\'s NullPointerException while running (a real fault then) and hides it, with its stack, once a stop was asked', () => {
    const running = new BrokerStartProgress();
    expect(NOISE.map((l) => running.read(l, 0).show)).toEqual(NOISE);

    const stopping = new BrokerStartProgress();
    stopping.stopRequested();
    const shown = [...NOISE, ...NOISE, STARTED].map((l) => stopping.read(l, 0).show).filter((s) => s !== null);
    expect(shown).toEqual([STARTED]);
    expect(stopping.hiddenShutdownNoise).toBe(6);
  });
});
