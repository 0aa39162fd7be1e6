# The Kafka bench's librdkafka reader: confluent-kafka's Consumer, tuned for draining, fetching and discarding a topic.
#
#   python librdkafka_consume.py BROKERS TOPIC EXPECTED_RECORDS
#
# Prints one JSON line {"records", "ms", "eventsPerSecond", "client"} on stdout; ms runs from the first
# batch of messages returned to the last, as the bench's kafkajs and Kindling raw readers count it.
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition, libversion, version


def client_version() -> str:
    # A (string, int) pair in older releases, a string in newer ones.
    v = version()
    return v if isinstance(v, str) else v[0]


def main() -> None:
    brokers, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    consumer = Consumer({
        'bootstrap.servers': brokers,
        'group.id': f'kindling-bench-librdkafka-{time.time_ns()}',
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'enable.partition.eof': False,
        # Tuned for throughput: large fetches, a deep prefetch queue, no CRC check (kafkajs checks none either).
        'fetch.max.bytes': 64 << 20,
        'max.partition.fetch.bytes': 8 << 20,
        'fetch.wait.max.ms': 100,
        'queued.min.messages': 1_000_000,
        'queued.max.messages.kbytes': 512 << 10,
        'check.crcs': False,
    })
    partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
    # Assigned, not subscribed: no group rebalance in the timing, as Kindling's own source assigns itself.
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    records = 0
    first = last = 0.0
    deadline = time.monotonic() + 600
    while records < expected:
        if time.monotonic() > deadline:
            raise SystemExit(f'librdkafka read {records} of {expected} records in 600 s')
        # consume() returns once it has num_messages or the timeout passed: never ask for more than is left.
        batch = consumer.consume(num_messages=min(100_000, expected - records), timeout=1.0)
        if not batch:
            continue
        if first == 0.0:
            first = time.perf_counter()
        for message in batch:
            error = message.error()
            if error is not None and error.code() != KafkaError._PARTITION_EOF:
                raise SystemExit(f'librdkafka: {error}')
            if error is None:
                records += 1
        last = time.perf_counter()
    consumer.close()
    ms = (last - first) * 1000
    print(json.dumps({
        'records': records,
        'ms': ms,
        'eventsPerSecond': records * 1000 / ms,
        'client': f'confluent-kafka {client_version()}, librdkafka {libversion()[0]}',
    }))


if __name__ == '__main__':
    main()
