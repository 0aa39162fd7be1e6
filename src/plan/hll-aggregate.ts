// Plugs Spark's HyperLogLog++ (hll.ts) into the plan's aggregates as approx_count_distinct; importing this module registers it.
import { KindlingError } from '../errors.js';
import { registerApproxCountDistinct, type AggregateFunction } from './aggregate.js';
import { approxCountDistinct, type ApproxCountDistinct, type HllInput, type HllState } from './hll.js';
import { PlanError, type DataType } from './types.js';

/** The sketch for a column type; an rsd Spark refuses becomes a PlanError with Spark's reason. */
function sketchFor(inputType: Exclude<DataType, 'window'>, relativeSD: number): ApproxCountDistinct {
  try {
    // A NULL-typed column only ever holds null, which every input type skips alike.
    return approxCountDistinct(inputType === 'null' ? 'long' : inputType, relativeSD);
  } catch (e) {
    if (e instanceof KindlingError && e.domain === 'user') throw new PlanError(e.message, { cause: e });
    throw e;
  }
}

/**
 * approx_count_distinct(col, rsd) as an AggregateFunction over the plan's values (longs as numbers,
 * timestamps as epoch microseconds: what hll.ts hashes). The state is the sketch's registers, a
 * Uint8Array, mutated in place. A bare NULL column sketches nothing and gives 0, as in Spark.
 */
export function approxCountDistinctAggregate(inputType: DataType, relativeSD: number): AggregateFunction<HllState> {
  if (inputType === 'window') {
    throw new PlanError('approx_count_distinct over a window struct is not supported; count a column of one of the six types');
  }
  const sketch = sketchFor(inputType, relativeSD);
  return {
    name: 'approx_count_distinct',
    resultType: 'long',
    init: () => sketch.init(),
    update: (state, value) => {
      sketch.update(state, value as HllInput);
      return state;
    },
    merge: (earlier, later) => {
      sketch.merge(earlier, later);
      return earlier;
    },
    evaluate: (state) => sketch.evaluate(state),
  };
}

registerApproxCountDistinct(approxCountDistinctAggregate);
