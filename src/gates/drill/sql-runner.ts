/**
 * Restoring a plain-SQL script without psql: each statement the lexer (sql-script.ts) finds is
 * sent to the restore target over the PostgreSQL protocol as one simple query, and COPY ... FROM
 * stdin data as CopyData, exactly the bytes of the backup (no re-encoding: `SET client_encoding`
 * in the script applies as it does under psql). Nothing in the script reaches a shell, a file or
 * another host: a backslash the lexer does not recognise as one of pg_dump's own meta-commands
 * stops the script before it is sent, and pg_dump's own are carried out here (`\connect <db>`:
 * the same server and user, another database; `\restrict`, `\unrestrict`, `\encoding SQL_ASCII`:
 * nothing to do).
 *
 * Like `psql -v ON_ERROR_STOP=0`, a failed statement is reported and the script goes on, in
 * autocommit; the data of a COPY the server refused is skipped (pg_restore does the same).
 */
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Connection, Submittable } from 'pg';
import { connect, type Session } from '../../postgres/connect.ts';
import type { DatabaseTarget } from '../../postgres/url.ts';
import { type ScriptUnit, scriptUnits } from './sql-script.ts';

/** How restores of plain SQL are named in the report (there is no client tool version to give). */
export const SCRIPT_RUNNER = 'postgate SQL script runner (no psql)';

export interface ScriptSource {
  chunks: AsyncIterable<Buffer>;
  /** After the iteration: the read or gunzip error that ended it early, and the script's last bytes. */
  status(): { error?: string; tail: string };
}

/**
 * A script file as a stream of chunks (gunzipped for .sql.gz). A read or gzip error ends the
 * stream early instead of throwing; `status().error` says what happened.
 */
export function openScript(file: string, options: { gzip: boolean; onBytes?: (bytes: number) => void }): ScriptSource {
  let error: string | undefined;
  let tail = '';
  async function* chunks(): AsyncGenerator<Buffer> {
    const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
    const gunzip = options.gzip ? createGunzip() : undefined;
    if (gunzip) {
      source.on('data', (chunk) => options.onBytes?.((chunk as Buffer).length));
      source.on('error', (e) => gunzip.destroy(e));
      source.pipe(gunzip);
    }
    try {
      for await (const chunk of (gunzip ?? source) as AsyncIterable<Buffer>) {
        if (!gunzip) options.onBytes?.(chunk.length);
        tail = (tail + chunk.subarray(Math.max(0, chunk.length - 256)).toString('utf8')).slice(-256);
        yield chunk;
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const message = (e as Error).message;
      if (!gunzip || (e as NodeJS.ErrnoException).syscall) error = `cannot read the file: ${message}`;
      else
        error =
          code === 'Z_BUF_ERROR' || /unexpected end/i.test(message)
            ? 'gzip stream ended early (unexpected end of file): the file is truncated'
            : `gzip stream is corrupt (${message})`;
    } finally {
      source.destroy();
      gunzip?.destroy();
    }
  }
  return { chunks: chunks(), status: () => ({ ...(error ? { error } : {}), tail }) };
}

function frame(type: string, length: number): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(length + 4, 1);
  return header;
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/** Writes protocol messages; waits when the socket's buffer is full. */
async function send(stream: Writable, ...buffers: Buffer[]): Promise<void> {
  let flowing = true;
  for (const buffer of buffers) flowing = stream.write(buffer) && flowing;
  if (!flowing && !stream.destroyed) await drained(stream);
}

const NUL = Buffer.from([0]);

/**
 * One statement as a simple-query message of the script's own bytes. node-postgres hands it the
 * server's replies (rows are ignored); `copyReady` says whether the server asked for COPY data.
 */
class RawStatement implements Submittable {
  error: Error | undefined;
  connection: Connection | undefined;
  readonly copyReady: Promise<boolean>;
  readonly done: Promise<void>;
  private resolveCopy!: (copying: boolean) => void;
  private resolveDone!: () => void;
  private readonly sql: Buffer;
  private readonly expectsCopy: boolean;

  constructor(sql: Buffer, expectsCopy: boolean) {
    this.sql = sql;
    this.expectsCopy = expectsCopy;
    this.copyReady = new Promise((resolve) => (this.resolveCopy = resolve));
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  submit(connection: Connection): void {
    this.connection = connection;
    void send(connection.stream, frame('Q', this.sql.length + 1), this.sql, NUL);
  }

  handleCopyInResponse(connection: Connection): void {
    if (this.expectsCopy) {
      this.resolveCopy(true);
      return;
    }
    // The lexer saw no COPY ... FROM stdin here, so no data follows in the script.
    const message = Buffer.from('postgate: no COPY data follows this statement in the backup\0', 'latin1');
    void send(connection.stream, frame('f', message.length), message);
  }

  handleError(error: Error): void {
    this.error ??= error;
    this.resolveCopy(false);
    this.resolveDone();
  }

  handleReadyForQuery(): void {
    this.resolveCopy(false);
    this.resolveDone();
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** An error of the server (it has a severity) rather than of the connection. */
function isServerError(error: Error): boolean {
  return typeof (error as { severity?: unknown }).severity === 'string';
}

export interface ScriptOutcome {
  /** What psql would have acted on that pg_dump never writes: the script stopped there. */
  untrusted: Array<{ line: number; text: string; why?: string }>;
  /** Why the script stopped before its end (untrusted content, lost connection, failed \connect). */
  stopped?: string;
  statements: number;
}

export type ErrorSink = (message: string, where: string) => void;

export class ScriptRunner {
  private session: Session;
  private readonly target: DatabaseTarget;

  private constructor(session: Session, target: DatabaseTarget) {
    this.session = session;
    this.target = target;
  }

  static async open(target: DatabaseTarget): Promise<ScriptRunner> {
    return new ScriptRunner(await ScriptRunner.connect(target), target);
  }

  private static connect(target: DatabaseTarget): Promise<Session> {
    return connect(target, { gate: 'drill', readOnly: false, inputName: 'target', statementTimeoutMs: 0 });
  }

  /** One statement of postgate's own (e.g. `SET session_replication_role = replica`). */
  async exec(sql: string, onError: ErrorSink, where: string): Promise<void> {
    try {
      await this.session.query(sql);
    } catch (error) {
      onError((error as Error).message, where);
    }
  }

  /** Runs a script; failed statements go to `onError` with "<label> line <n>". */
  async run(chunks: AsyncIterable<Buffer>, label: string, onError: ErrorSink): Promise<ScriptOutcome> {
    const outcome: ScriptOutcome = { untrusted: [], statements: 0 };
    const units = scriptUnits(chunks);
    try {
      for (;;) {
        const next = await units.next();
        if (next.done) break;
        const unit = next.value;
        if (unit.kind === 'statement') {
          if (unit.sql.indexOf(0) >= 0) {
            outcome.stopped = `${label} line ${unit.line} holds a NUL byte, which no SQL script has`;
            break;
          }
          outcome.statements += 1;
          const statement = new RawStatement(unit.sql, unit.copyIn);
          this.session.query(statement);
          if (unit.copyIn) {
            const copying = await statement.copyReady;
            const stop = await this.copy(units, copying ? statement : undefined, label);
            if (stop) {
              outcome.stopped = stop;
              await statement.done;
              break;
            }
          }
          await statement.done;
          if (statement.error) {
            if (!isServerError(statement.error)) {
              outcome.stopped = `the connection to the restore target was lost at ${label} line ${unit.line}: ${statement.error.message}`;
              break;
            }
            onError(statement.error.message, `${label} line ${unit.line}`);
          }
        } else if (unit.kind === 'meta') {
          if (!unit.allowed) {
            outcome.untrusted.push({ line: unit.line, text: unit.text });
            outcome.stopped = `${label} line ${unit.line} holds a psql command pg_dump never writes`;
            break;
          }
          if (unit.allowed.kind === 'connect') {
            const stop = await this.reconnect(unit.allowed.database, `${label} line ${unit.line}`);
            if (stop) {
              outcome.stopped = stop;
              break;
            }
          }
        } else if (unit.kind === 'unsafe') {
          outcome.untrusted.push({ line: unit.line, text: unit.text, why: unit.why });
          outcome.stopped = `${label} line ${unit.line}: ${unit.why}`;
          break;
        } else if (unit.kind === 'nul') {
          outcome.stopped = `${label} line ${unit.line} holds a NUL byte, which no SQL script has`;
          break;
        }
        // copy-data and copy-end only follow a COPY statement, and are read there
      }
    } finally {
      await units.return(undefined);
    }
    return outcome;
  }

  /**
   * Sends (or, when the server refused the COPY, skips) the data after a COPY ... FROM stdin,
   * through its end. Returns why the script must stop, if it must.
   */
  private async copy(units: AsyncGenerator<ScriptUnit>, statement: RawStatement | undefined, label: string): Promise<string | undefined> {
    const stream = statement?.connection?.stream;
    for (;;) {
      const next = await units.next();
      if (next.done || next.value.kind === 'copy-end') break;
      const unit = next.value;
      if (unit.kind === 'nul') {
        if (stream && !statement.error) {
          const message = Buffer.from('postgate: the backup holds a NUL byte\0', 'latin1');
          await send(stream, frame('f', message.length), message);
        }
        return `${label} line ${unit.line} holds a NUL byte, which no SQL script has`;
      }
      if (unit.kind !== 'copy-data' || !stream || statement.error) continue;
      await send(stream, frame('d', unit.data.length), unit.data);
    }
    if (stream && !statement.error) await send(stream, frame('c', 0));
    return undefined;
  }

  /** `\connect <db>`: the same server and role, another database; psql stops a script whose \connect fails. */
  private async reconnect(database: string, where: string): Promise<string | undefined> {
    let next: Session;
    try {
      next = await ScriptRunner.connect({ ...this.target, database });
    } catch (error) {
      return `\\connect to database ${database} at ${where} failed: ${(error as Error).message}`;
    }
    await this.session.end().catch(() => undefined);
    this.session = next;
    return undefined;
  }

  async close(): Promise<void> {
    await this.session.end().catch(() => undefined);
  }
}
