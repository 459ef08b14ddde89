// A model handle's budgets: tokens and cost reserved before a call is sent and settled from the reported usage,
// and requests per minute. A derived handle's budget also draws on its parent's, so attenuating cannot refill it.
import { WardenError } from "../../errors.ts";
import type { Usage } from "./conversation.ts";

/** US dollars per million tokens, in and out, per model name: the operator's price table. */
export type PriceTable = Readonly<Record<string, { input: number; output: number }>>;

export interface BudgetLimits {
  totalTokens?: number;
  /** US dollars. */
  totalCost?: number;
  requestsPerMinute?: number;
}

export interface Reservation {
  tokens: number;
  cost: number;
}

const MINUTE = 60_000;

export function costOf(prices: PriceTable, model: string, usage: Usage): number {
  const price = Object.hasOwn(prices, model) ? prices[model] : undefined;
  if (!price) return 0;
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}

export class Budget {
  readonly limits: BudgetLimits;
  readonly parent: Budget | undefined;
  tokens = 0;
  cost = 0;
  private readonly sent: number[] = [];

  constructor(limits: BudgetLimits, parent?: Budget) {
    this.limits = limits;
    this.parent = parent;
  }

  private *chain(): Generator<Budget> {
    for (let b: Budget | undefined = this; b; b = b.parent) yield b;
  }

  /**
   * Holds `want` against every budget in the chain, or refuses, naming the budget it would pass, before
   * anything is sent. Also counts the request against each requests-per-minute limit.
   */
  reserve(want: Reservation, now = Date.now()): Reservation {
    for (const b of this.chain()) {
      while (b.sent.length && (b.sent[0] ?? 0) <= now - MINUTE) b.sent.shift();
      const { totalTokens, totalCost, requestsPerMinute } = b.limits;
      if (requestsPerMinute !== undefined && b.sent.length >= requestsPerMinute) {
        throw new WardenError(
          "LIMIT_EXCEEDED",
          `the model handle's requestsPerMinute budget (${requestsPerMinute}) is spent; wait and try again`,
        );
      }
      if (totalTokens !== undefined && b.tokens + want.tokens > totalTokens) {
        throw new WardenError(
          "LIMIT_EXCEEDED",
          `the model handle's totalTokens budget (${totalTokens}) would be passed: ${b.tokens} used or held, this call may take ${want.tokens}`,
        );
      }
      if (totalCost !== undefined && b.cost + want.cost > totalCost) {
        throw new WardenError(
          "LIMIT_EXCEEDED",
          `the model handle's totalCost budget ($${totalCost}) would be passed: $${round(b.cost)} used or held, this call may cost $${round(want.cost)}`,
        );
      }
    }
    for (const b of this.chain()) {
      b.tokens += want.tokens;
      b.cost += want.cost;
      b.sent.push(now);
    }
    return want;
  }

  /** Replaces a reservation with what the call really used (zero for a call that never reached the provider). */
  settle(held: Reservation, used: Reservation): void {
    for (const b of this.chain()) {
      b.tokens += used.tokens - held.tokens;
      b.cost += used.cost - held.cost;
    }
  }
}

function round(dollars: number): string {
  return dollars.toFixed(6).replace(/\.?0+$/, "");
}
