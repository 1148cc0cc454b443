/**
 * The embedded DynamoDB of local mode: dynalite, in memory, on loopback, started by the program.
 * Only the CLI and the tests import this; the Lambdas never do.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import dynalite from 'dynalite';

export interface EmbeddedDynamo {
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface EmbeddedDynamoOptions {
  /** A directory for an on-disk (leveldb) store that outlives the process (`--keep DIR`); default in memory. */
  readonly path?: string;
}

export async function startEmbeddedDynamo(options: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  // leveldb allows one process per directory, and dynalite crashes on a locked one: refuse cleanly first.
  const unlock = options.path ? lockDirectory(options.path) : undefined;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  }).catch((error: unknown) => {
    unlock?.();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          unlock?.();
          resolve();
        });
        // Keep-alive sockets from the SDK would hold close() open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

const openHere = new Set<string>();

/** A `<path>.lock` file holding our pid; a stale one (its process is gone) is taken over. Returns the release. */
function lockDirectory(path: string): () => void {
  const lock = `${path}.lock`;
  if (openHere.has(lock)) throw new Error(`${path} is already open in this process`);
  mkdirSync(dirname(lock), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      openHere.add(lock);
      return () => {
        openHere.delete(lock);
        rmSync(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new Error(`${path} is in use by another buildwatch process (pid ${pid})`);
      }
      rmSync(lock, { force: true }); // left behind by a process that is gone
    }
  }
  throw new Error(`cannot lock ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
