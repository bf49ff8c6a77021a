/**
 * A small builder for DynamoDB expressions: named placeholders for attribute names and values,
 * condition clauses joined with AND, the SET/REMOVE/ADD parts of an update, and the key
 * condition, filter and projection of a Query or Scan. Every adapter writes its expressions with
 * it: no hand-written placeholders, so a reserved word as an attribute name is never a bug.
 *
 *     const e = new Expr();
 *     e.set(`${e.name('next')} = ${e.value(N(to))}`).add(e.name('written'), e.value(N(1)));
 *     e.require(`${e.name('next')} = ${e.value(N(from))}`);
 *     client.send(new UpdateItemCommand({ TableName, Key, ...e.updateParams() }));
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type Numeric, numericText } from '../../core/decimal';

export class Expr {
  public readonly names: Record<string, string> = {};
  public readonly values: Record<string, AttributeValue> = {};
  private readonly nameIds = new Map<string, string>();
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private readonly adds: string[] = [];
  private readonly conds: string[] = [];
  private readonly keys: string[] = [];
  private readonly filters: string[] = [];
  private projection: string | undefined;
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

  /** `ADD path operand`: adds a number to a number attribute (0 when absent), or members to a set. */
  public add(path: string, operand: string): this {
    this.adds.push(`${path} ${operand}`);
    return this;
  }

  /** Adds a key condition of a Query (ANDed with the others, as DynamoDB takes them: no parentheses). */
  public key(clause: string): this {
    this.keys.push(clause);
    return this;
  }

  /** Adds a filter clause of a Query or Scan (parenthesised and ANDed with the others). */
  public filter(clause: string): this {
    this.filters.push(`(${clause})`);
    return this;
  }

  /** Reads only these attributes (top-level names). */
  public project(attrs: readonly string[]): this {
    this.projection = attrs.map((a) => this.name(a)).join(', ');
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
    const clauses = this.sets.length + this.removes.length + this.adds.length + this.conds.length;
    return (
      clauses <= MAX_FAST_CLAUSES &&
      this.update().length <= MAX_EXPRESSION_CHARS &&
      (this.condition()?.length ?? 0) <= MAX_EXPRESSION_CHARS
    );
  }

  public update(): string {
    const parts: string[] = [];
    if (this.sets.length) parts.push(`SET ${this.sets.join(', ')}`);
    if (this.removes.length) parts.push(`REMOVE ${this.removes.join(', ')}`);
    if (this.adds.length) parts.push(`ADD ${this.adds.join(', ')}`);
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

  /**
   * The parts a transaction's ConditionCheck takes, whose condition is required. Throws when no
   * clause was added (a check of nothing is a bug).
   */
  public checkParams(): ReturnType<Expr['params']> & { ConditionExpression: string } {
    const condition = this.condition();
    if (condition === undefined) throw new Error('a condition check needs at least one clause');
    return { ...this.params(), ConditionExpression: condition };
  }

  /** The parts an UpdateItem (or a transaction's Update) takes: `params()` and the update. */
  public updateParams(): ReturnType<Expr['params']> & { UpdateExpression: string } {
    return { UpdateExpression: this.update(), ...this.params() };
  }

  /** The parts a Query (or, without key conditions, a Scan) takes. */
  public queryParams(): {
    KeyConditionExpression?: string;
    FilterExpression?: string;
    ProjectionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } {
    return {
      ...(this.keys.length ? { KeyConditionExpression: this.keys.join(' AND ') } : {}),
      ...(this.filters.length ? { FilterExpression: this.filters.join(' AND ') } : {}),
      ...(this.projection !== undefined ? { ProjectionExpression: this.projection } : {}),
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** `if_not_exists(path, operand)`: the attribute's value, or `operand` when it has none. */
export const ifNotExists = (path: string, operand: string): string => `if_not_exists(${path}, ${operand})`;
/** `list_append(a, b)`: the list `a` followed by the list `b`. */
export const listAppend = (a: string, b: string): string => `list_append(${a}, ${b})`;
/** `begins_with(path, operand)`: a string (or binary) attribute that starts with `operand`. */
export const beginsWith = (path: string, operand: string): string => `begins_with(${path}, ${operand})`;
/** `path IN (a, b, ...)`: the attribute equals one of the operands (at most 100). */
export const isIn = (path: string, operands: readonly string[]): string => `${path} IN (${operands.join(', ')})`;
/** `attribute_exists(path)`. */
export const attributeExists = (path: string): string => `attribute_exists(${path})`;
/** `attribute_not_exists(path)`. */
export const attributeNotExists = (path: string): string => `attribute_not_exists(${path})`;

/** Clauses (each at most a few operators) and characters an expression may have to be sent. */
const MAX_FAST_CLAUSES = 80;
const MAX_EXPRESSION_CHARS = 3072;

/** A number attribute, digit for digit. */
export const N = (n: Numeric): AttributeValue => ({ N: numericText(n) });
export const S = (s: string): AttributeValue => ({ S: s });
export const BOOL = (b: boolean): AttributeValue => ({ BOOL: b });
