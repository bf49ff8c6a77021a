/**
 * A small builder for DynamoDB expressions: named placeholders for attribute names and values,
 * condition clauses joined with AND, and the SET/REMOVE parts of an update.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type Numeric, numericText } from '../../core/decimal';

export class Expr {
  public readonly names: Record<string, string> = {};
  public readonly values: Record<string, AttributeValue> = {};
  private readonly nameIds = new Map<string, string>();
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly conds: string[] = [];
  private n = 0;

  /** Placeholder for an attribute or map-member name (`#a3`), reused for the same name. */
  public name(attr: string): string {
    let id = this.nameIds.get(attr);
    if (!id) {
      id = `#a${this.nameIds.size}`;
      this.nameIds.set(attr, id);
      this.names[id] = attr;
    }
    return id;
  }

  /** Placeholder for a value (`:v3`). */
  public value(av: AttributeValue): string {
    const id = `:v${this.n++}`;
    this.values[id] = av;
    return id;
  }

  public set(clause: string): this {
    this.sets.push(clause);
    return this;
  }

  public remove(path: string): this {
    this.removes.push(path);
    return this;
  }

  /** Adds a clause that must hold (parenthesised and ANDed with the others). */
  public require(clause: string): this {
    this.conds.push(`(${clause})`);
    return this;
  }

  /**
   * Whether the expressions stay well inside DynamoDB's limits (4 KB per expression string, 300
   * operators per update): a caller with a larger request takes a path that needs no expression.
   */
  public fits(): boolean {
    const clauses = this.sets.length + this.removes.length + this.conds.length;
    return clauses <= MAX_FAST_CLAUSES && this.update().length <= MAX_EXPRESSION_CHARS && (this.condition()?.length ?? 0) <= MAX_EXPRESSION_CHARS;
  }

  public update(): string {
    const parts: string[] = [];
    if (this.sets.length) parts.push(`SET ${this.sets.join(', ')}`);
    if (this.removes.length) parts.push(`REMOVE ${this.removes.join(', ')}`);
    return parts.join(' ');
  }

  public condition(): string | undefined {
    return this.conds.length ? this.conds.join(' AND ') : undefined;
  }

  /** The parts every UpdateItem / PutItem / ConditionCheck takes. */
  public params(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
    ConditionExpression?: string;
  } {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
      ...(this.conds.length ? { ConditionExpression: this.condition() } : {}),
    };
  }
}

/** Clauses (each at most a few operators) and characters an expression may have to be sent. */
const MAX_FAST_CLAUSES = 80;
const MAX_EXPRESSION_CHARS = 3072;

/** A number attribute, digit for digit. */
export const N = (n: Numeric): AttributeValue => ({ N: numericText(n) });
export const S = (s: string): AttributeValue => ({ S: s });
export const BOOL = (b: boolean): AttributeValue => ({ BOOL: b });
