/** The access matrix as a report table: one row per table or view and actor. */
import { ACCESS_LABELS, type AccessMatrix } from './matrix.ts';

export interface MatrixTable {
  title: string;
  columns: string[];
  rows: Array<Record<string, string>>;
  note: string;
}

/**
 * The shape the text and markdown renderers draw as a table (src/report/details.ts). With `appCalls`
 * (`schema.name` -> count and first call site), an "app calls" column on each object's first row.
 */
export function matrixTable(matrix: AccessMatrix, appCalls: ReadonlyMap<string, string> = new Map()): MatrixTable {
  const rows = matrix.rows.flatMap((row) =>
    matrix.actors.map((actor, index) => {
      const record: Record<string, string> = {
        object: `${row.object.schema}.${row.object.name}${row.object.kind === 'table' ? '' : ` (${row.object.kind})`}`,
        role: actor.label,
      };
      for (const command of matrix.commands) {
        const cell = row.cells[actor.id]?.[command];
        record[command] = cell ? ACCESS_LABELS[cell.access] : 'n/a';
      }
      if (appCalls.size) record['app calls'] = index === 0 ? (appCalls.get(`${row.object.schema}.${row.object.name}`) ?? '') : '';
      return record;
    }),
  );
  const notes = matrix.rows.flatMap((row) =>
    matrix.actors.flatMap((actor) =>
      matrix.commands.flatMap((command) => {
        const cell = row.cells[actor.id]?.[command];
        return cell && (cell.access === 'error' || cell.access === 'untested') && cell.note
          ? [`${row.object.schema}.${row.object.name} as ${actor.label}, ${command}: ${cell.note}`]
          : [];
      }),
    ),
  );
  return {
    title: 'Access matrix (requests run on the shadow database as each role, then rolled back)',
    columns: ['object', 'role', ...matrix.commands, ...(appCalls.size ? ['app calls'] : [])],
    rows,
    note: [
      `Users: A ${matrix.users.A}, B ${matrix.users.B}. allowed = every row; own rows only = the user's rows; some rows = own rows and some of others' (teams, sharing) or a subset; denied = filtered by policy or refused; n/a = not probed for this kind of object.`,
      ...notes,
    ].join(' '),
  };
}
