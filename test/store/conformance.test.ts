/**
 * One store contract, one suite: the DynamoDB stores (on dynalite) and the in-process store answer
 * the same, and what the in-process store flushes reads back the same through either.
 */
import { describe } from 'vitest';
import { useLocalDynamo } from '../support/local-dynamo.js';
import { conformanceCases } from './conformance/cases.js';
import { kits } from './conformance/kits.js';

const dynamo = useLocalDynamo();

for (const [name, open] of Object.entries(kits(dynamo))) {
  describe(name, () => conformanceCases(open));
}
