/**
 * CodeCommit approval-rule content: a JSON document in a string (templates and pull-request rules
 * share the format), e.g.
 * {"Version":"2018-11-08","DestinationReferences":["refs/heads/main"],
 *  "Statements":[{"Type":"Approvers","NumberOfApprovalsNeeded":2,"ApprovalPoolMembers":["arn:…:assumed-role/Reviewers/*"]}]}
 * Only the new content is logged, so a change is judged by what it now requires.
 */
import * as z from 'zod';
import { builtOnFirstUse } from '../../engine/use-case.js';

const statementSchema = builtOnFirstUse(() => z.looseObject({
  Type: z.string().optional(),
  NumberOfApprovalsNeeded: z.number().int().optional(),
  ApprovalPoolMembers: z.array(z.string()).optional(),
}));

const contentSchema = builtOnFirstUse(() => z.looseObject({
  Version: z.string().optional(),
  DestinationReferences: z.array(z.string()).optional(),
  Statements: z.array(statementSchema).optional(),
}));

export interface RuleRequirement {
  /** Approvals the strictest Approvers statement needs (0 when there is none). */
  readonly approvals: number;
  readonly poolMembers: string[];
  /** Branches it applies to; empty means every branch. */
  readonly branches: string[];
}

/** The requirement a rule's content expresses, or undefined when the content is not readable JSON. */
export function requirementOf(content: unknown): RuleRequirement | undefined {
  if (typeof content !== 'string') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    return undefined;
  }
  const parsed = contentSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const approvers = (parsed.data.Statements ?? []).filter((s) => (s.Type ?? 'Approvers') === 'Approvers');
  return {
    approvals: approvers.reduce((max, s) => Math.max(max, s.NumberOfApprovalsNeeded ?? 0), 0),
    poolMembers: [...new Set(approvers.flatMap((s) => s.ApprovalPoolMembers ?? []))],
    branches: parsed.data.DestinationReferences ?? [],
  };
}

/** One line for a summary: "2 approvals from arn:…/Reviewers/* on refs/heads/main". */
export function describeRequirement(requirement: RuleRequirement): string {
  const who = requirement.poolMembers.length > 0 ? ` from ${requirement.poolMembers.join(', ')}` : ' from anyone';
  const where = requirement.branches.length > 0 ? ` on ${requirement.branches.join(', ')}` : ' on every branch';
  return `${requirement.approvals} approval${requirement.approvals === 1 ? '' : 's'}${who}${where}`;
}
