// `npm run postgate -- <command> [flags]`: the CLI straight from the TypeScript sources.
import { runCli } from '../src/cli.ts';

await runCli();
