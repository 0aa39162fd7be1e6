// The lab's two queries written with the builder: crash-alerts (Activity 3) and vulnerability-by-ip (Activities 1-2).
import { col, count, desc, lower, window } from './column.js';
import { readStream } from './dataframe.js';
import type { QueryPlan } from './plan.js';

/** The lab's event schema, as the load generator writes it. */
export const LAB_SCHEMA = 'timestamp LONG, status STRING, severity STRING, source_ip STRING, user_id STRING, content STRING';

/** Activity 3: crash alerts per user per 10 s window, 30 s watermark, more than 2 crashes, append mode. */
export const crashAlertsPlan: QueryPlan = readStream(LAB_SCHEMA)
  .withColumn('event_time', col('timestamp').divide(1000).cast('timestamp'))
  .filter(lower(col('content')).contains('crash').and(col('severity').isin('High', 'Critical')))
  .withWatermark('event_time', '30 seconds')
  .groupBy(window(col('event_time'), '10 seconds'), col('user_id'))
  .agg(count('*').alias('crash_count'))
  .filter(col('crash_count').gt(2))
  .toQuery({
    name: 'crash-alerts',
    outputMode: 'append',
    description: 'content contains "crash" (any case) and severity is High or Critical; 30 s watermark; count per 10 s window and user_id; counts > 2 when the window completes',
  });

/** Activities 1-2: High-severity "vulnerability" rows per source_ip, complete mode, by count descending. */
export const vulnerabilityByIpPlan: QueryPlan = readStream(LAB_SCHEMA)
  .filter(lower(col('content')).contains('vulnerability').and(col('severity').eq('High')))
  .groupBy(col('source_ip'))
  .agg(count('*').alias('count'))
  .orderBy(desc('count'))
  .toQuery({ name: 'vulnerability-by-ip', outputMode: 'complete', description: 'content contains "vulnerability" (any case) and severity is High; count per source_ip; complete mode, sorted by count' });
