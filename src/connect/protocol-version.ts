// The Spark Connect protocol version Kindling's server follows, and what it answers for spark.version.

/** Kindling's .proto files are written from Spark Connect 4.0.x (tested with pyspark-client 4.0.4). */
export const SPARK_CONNECT_VERSION = '4.0.0';

/** spark.version as a client sees it: the protocol version, marked so scripts and users can tell the server is Kindling. */
export const SERVER_VERSION = `${SPARK_CONNECT_VERSION}-kindling`;
