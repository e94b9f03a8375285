/**
 * pgmq stand-in: a working PL/pgSQL implementation of pgmq 1.5.1's queue API (the version Supabase
 * ships), written from pgmq's documented interface. pgmq is pure SQL upstream and acts only inside
 * the database, so nothing here needs faking: queues are real tables.
 *
 *   schema pgmq (the control file's schema), pgmq.meta (queue_name, is_partitioned, is_unlogged,
 *   created_at), types message_record (msg_id, read_ct, enqueued_at, vt, message), queue_record,
 *   metrics_result
 *   create(queue_name), create_non_partitioned, create_unlogged: tables pgmq.q_<name> (the queue)
 *   and pgmq.a_<name> (its archive), name lower-cased, with pgmq's columns and indexes, made
 *   members of the extension; create_partitioned refuses (it needs pg_partman)
 *   drop_queue(queue_name) (and the deprecated (queue_name, partitioned)), purge_queue,
 *   detach_archive, list_queues(), metrics(queue_name), metrics_all()
 *   send(queue_name, msg jsonb, delay integer default 0 | delay timestamptz) -> setof bigint,
 *   send_batch(queue_name, msgs jsonb[], delay ...) -> setof bigint
 *   read(queue_name, vt, qty, conditional jsonb default '{}'), read_with_poll(...), pop(queue_name)
 *   -> setof message_record; set_vt(queue_name, msg_id, vt)
 *   archive / delete (one msg_id -> boolean, msg_ids bigint[] -> setof bigint)
 *   format_table_name, validate_queue_name, _belongs_to_pgmq, _extension_exists helpers
 *
 * Queue names are checked as pgmq checks them ($, ;, -- and ' are refused; under 48 characters).
 *
 * Ownership: on Supabase, pgmq's after-create script hands the extension and every object it
 * created to `postgres`, so that role (which runs migrations) can create queues, which means
 * creating tables in schema pgmq and adding them to the extension. The stand-in does the same for
 * whoever owns the extension: when a non-superuser creates it (it is trusted), the script runs as
 * the bootstrap superuser and, at its end, gives meta, the types and the functions to the
 * extension's owner.
 */
import { readSqlAsset } from '../../sql-asset.ts';
import type { StandIn } from '../types.ts';

export const PGMQ: StandIn = {
  name: 'pgmq',
  defaultVersion: '1.5.1',
  olderVersions: ['1.4.4'],
  schema: 'pgmq',
  relocatable: false,
  comment: 'A lightweight message queue. Like AWS SQS and RSMQ but on Postgres.',
  limits: 'A working PL/pgSQL pgmq (queues are real tables in schema pgmq); partitioned queues (create_partitioned, which needs pg_partman) are refused.',
  sql: readSqlAsset(new URL('./pgmq.sql', import.meta.url)),
};
