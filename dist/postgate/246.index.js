export const id = 246;
export const ids = [246];
export const modules = {

/***/ 3246:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runAction: () => (/* binding */ runAction)
});

// UNUSED EXPORTS: actionLogger

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(73024);
// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(48161);
var external_node_os_default = /*#__PURE__*/__webpack_require__.n(external_node_os_);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(76760);
var external_node_path_default = /*#__PURE__*/__webpack_require__.n(external_node_path_);
// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 14 modules
var core = __webpack_require__(96421);
// EXTERNAL MODULE: ./node_modules/@actions/github/lib/github.js + 22 modules
var github = __webpack_require__(92413);
// EXTERNAL MODULE: ./src/config/gates.ts
var gates = __webpack_require__(20398);
// EXTERNAL MODULE: ./src/config/input-spec.ts
var input_spec = __webpack_require__(88792);
// EXTERNAL MODULE: ./src/config/job-secrets.ts
var job_secrets = __webpack_require__(38725);
// EXTERNAL MODULE: ./src/config/paths.ts
var paths = __webpack_require__(81066);
// EXTERNAL MODULE: ./src/findings/types.ts
var types = __webpack_require__(45315);
// EXTERNAL MODULE: ./src/gates/invoke.ts + 85 modules
var invoke = __webpack_require__(95373);
// EXTERNAL MODULE: ./src/gates/rules-catalog.ts
var rules_catalog = __webpack_require__(89789);
// EXTERNAL MODULE: ./src/gates/step.ts
var step = __webpack_require__(44884);
// EXTERNAL MODULE: ./src/secrets.ts
var secrets = __webpack_require__(27194);
;// CONCATENATED MODULE: ./src/github/api.ts

const DEFAULT_RETRY = { attempts: 4, baseDelayMs: 1000, maxDelayMs: 60_000, budgetMs: 90_000, timeoutMs: 30_000 };
/** Parameters that are not request content (and the auth header must stay intact). */
const NOT_CONTENT = new Set(['method', 'url', 'headers', 'request', 'baseUrl', 'mediaType']);
function headerOf(error, name) {
    const value = error.response?.headers?.[name];
    return value === undefined ? undefined : String(value);
}
function isRateLimited(error) {
    if (error.status !== 403 && error.status !== 429)
        return false;
    return (error.status === 429 ||
        headerOf(error, 'retry-after') !== undefined ||
        headerOf(error, 'x-ratelimit-remaining') === '0' ||
        /rate limit/i.test(error.message ?? ''));
}
/** A request that cannot be sent at all (fetch refuses a header, e.g. a token with a newline): no retry helps. */
const UNSENDABLE = /invalid header (?:value|name)/i;
/** Milliseconds to wait before the next attempt, or undefined when the error is final. */
function retryDelay(error, attempt, policy, now = Date.now()) {
    if (UNSENDABLE.test(error.message ?? ''))
        return undefined;
    const status = error.status;
    const transient = status === undefined || status >= 500 || isRateLimited(error);
    if (!transient)
        return undefined;
    const retryAfter = headerOf(error, 'retry-after');
    if (retryAfter !== undefined && /^\d+$/.test(retryAfter)) {
        const wait = Number(retryAfter) * 1000;
        return wait <= policy.maxDelayMs ? wait : undefined;
    }
    const reset = headerOf(error, 'x-ratelimit-reset');
    if (headerOf(error, 'x-ratelimit-remaining') === '0' && reset && /^\d+$/.test(reset)) {
        const wait = Math.max(0, Number(reset) * 1000 - now);
        return wait <= policy.maxDelayMs ? wait : undefined;
    }
    return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}
const prepared = new WeakSet();
/** Installs redaction, timeouts and retries on the octokit (once) and returns it. */
function prepareOctokit(octokit, policy = DEFAULT_RETRY) {
    if (prepared.has(octokit))
        return octokit;
    prepared.add(octokit);
    const sleep = policy.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    let waited = 0;
    octokit.hook.wrap('request', async (request, options) => {
        const content = {};
        for (const [key, value] of Object.entries(options))
            content[key] = NOT_CONTENT.has(key) ? value : (0,secrets/* redactDeep */.KL)(value);
        for (let attempt = 1;; attempt += 1) {
            try {
                return await request({ ...content, request: { ...options.request, signal: AbortSignal.timeout(policy.timeoutMs) } });
            }
            catch (error) {
                const delay = attempt < policy.attempts ? retryDelay(error, attempt, policy) : undefined;
                if (delay === undefined || waited + delay > policy.budgetMs) {
                    throw Object.assign(error, { attempts: attempt });
                }
                waited += delay;
                await sleep(delay);
            }
        }
    });
    return octokit;
}
function classify(error) {
    const e = error;
    const status = typeof e?.status === 'number' ? e.status : undefined;
    const attempts = e?.attempts ?? 1;
    const raw = (e?.message ?? String(error)).split('\n')[0].replace(/\s+-\s+https:\/\/docs\.github\.com\S*/, '');
    const message = (0,secrets/* redactDeep */.KL)(raw).slice(0, 300);
    let kind;
    if (status === undefined || status >= 500 || isRateLimited(e))
        kind = 'unavailable';
    else if (status === 401 || status === 403 || status === 404)
        kind = 'denied';
    else if (status === 422)
        kind = 'rejected';
    else
        kind = 'failed';
    return { kind, ...(status !== undefined ? { status } : {}), attempts, message };
}

;// CONCATENATED MODULE: ./src/github/identity.ts

/** The bot every workflow's `GITHUB_TOKEN` writes as. */
const ACTIONS_BOT = { login: 'github-actions[bot]', id: 41898282 };
const BOT_SUFFIX = /\[bot\]$/i;
function identityOf(login, id, source, type) {
    const bot = BOT_SUFFIX.test(login) || type === 'Bot';
    return {
        login,
        ...(typeof id === 'number' ? { id } : {}),
        kind: bot ? 'bot' : 'user',
        ...(bot ? { appSlug: login.replace(BOT_SUFFIX, '') } : {}),
        source,
    };
}
/** An outage, not an answer: thrown on, never guessed around. */
function identity_transient(error) {
    const e = error;
    if (e?.status === undefined)
        return error?.name !== 'GraphqlResponseError';
    return e.status >= 500 || isRateLimited(e);
}
async function resolve(octokit) {
    try {
        const data = await octokit.graphql('query postgateViewer { viewer { login databaseId } }');
        if (data?.viewer?.login)
            return identityOf(data.viewer.login, data.viewer.databaseId, 'graphql');
    }
    catch (error) {
        if (identity_transient(error))
            throw error;
    }
    try {
        const { data } = await octokit.rest.users.getAuthenticated();
        return identityOf(data.login, data.id, 'rest', data.type);
    }
    catch (error) {
        const e = error;
        if (e?.status === 403 && /not accessible by integration/i.test(e.message ?? '')) {
            return identityOf(ACTIONS_BOT.login, ACTIONS_BOT.id, 'assumed', 'Bot');
        }
        throw error;
    }
}
const known = new WeakMap();
/** The identity of the octokit's token, asked once per octokit (a failed answer is asked again next time). */
function tokenIdentity(octokit) {
    let answer = known.get(octokit);
    if (!answer) {
        answer = resolve(octokit);
        known.set(octokit, answer);
        answer.catch(() => known.delete(octokit));
    }
    return answer;
}
/**
 * Whether `author` is the token's identity. The account id decides when both sides have one (a
 * login can be renamed and taken by someone else; an id cannot); otherwise the login, compared
 * case-insensitively as GitHub does, and a bot identity only matches a bot account.
 */
function writtenBy(identity, author) {
    if (!author?.login)
        return false;
    if (typeof identity.id === 'number' && typeof author.id === 'number')
        return identity.id === author.id;
    if (identity.kind === 'bot' && author.type && author.type !== 'Bot')
        return false;
    return author.login.toLowerCase() === identity.login.toLowerCase();
}

;// CONCATENATED MODULE: ./src/github/comment.ts

const COMMENT_MODES = ['auto', 'always', 'on-failure', 'never'];
/** Whether a new comment is worth posting (an existing one is updated whatever the mode, except never). */
function wantsNewComment(mode, result) {
    switch (mode) {
        case 'always':
            return true;
        case 'auto':
            return result.status !== 'pass' || result.findings.length > 0;
        case 'on-failure':
            return result.status !== 'pass';
        case 'never':
            return false;
    }
}
/** The first comment that starts with `marker` and was written by `identity` (the token's, by default). */
async function findComment(octokit, ref, marker, identity) {
    const self = identity ?? (await tokenIdentity(octokit));
    const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
        owner: ref.owner,
        repo: ref.repo,
        issue_number: ref.number,
        per_page: 100,
    });
    for await (const page of pages) {
        const found = page.data.find((comment) => comment.body?.startsWith(marker) && writtenBy(self, comment.user));
        if (found)
            return { id: found.id, body: found.body ?? '', url: found.html_url };
    }
    return undefined;
}
/** `body` must start with `marker`. */
async function upsertComment(octokit, ref, marker, body, create) {
    const existing = await findComment(octokit, ref, marker);
    if (existing) {
        if (existing.body === body)
            return { state: 'unchanged', ...(existing.url ? { url: existing.url } : {}) };
        const { data } = await octokit.rest.issues.updateComment({ owner: ref.owner, repo: ref.repo, comment_id: existing.id, body });
        return { state: 'updated', url: data.html_url };
    }
    if (!create)
        return { state: 'skipped', reason: 'nothing to report and no earlier comment' };
    const { data } = await octokit.rest.issues.createComment({ owner: ref.owner, repo: ref.repo, issue_number: ref.number, body });
    return { state: 'created', url: data.html_url };
}

// EXTERNAL MODULE: ./src/github/context.ts
var context = __webpack_require__(19556);
// EXTERNAL MODULE: ./src/report/annotations.ts
var annotations = __webpack_require__(856);
// EXTERNAL MODULE: ./src/report/format.ts
var format = __webpack_require__(12011);
// EXTERNAL MODULE: ./src/report/markdown.ts
var report_markdown = __webpack_require__(54285);
// EXTERNAL MODULE: ./src/report/text.ts
var report_text = __webpack_require__(65655);
;// CONCATENATED MODULE: ./src/github/check-run.ts

const ANNOTATIONS_PER_REQUEST = 50;
/** 20 requests; the summary and the job summary list everything beyond. */
const MAX_ANNOTATIONS = 1000;
const LEVEL = { error: 'failure', warning: 'warning', notice: 'notice' };
const CONCLUSION = { pass: 'success', fail: 'failure', error: 'failure' };
/** The line appended to the summary about annotations; at most ~300 characters. */
function annotationNote(located, withoutFile) {
    const parts = [];
    const posted = Math.min(located, MAX_ANNOTATIONS);
    if (posted)
        parts.push(`${(0,format/* plural */.LS)(posted, 'finding')} annotated on ${posted === 1 ? 'its' : 'their'} file and line`);
    if (located > MAX_ANNOTATIONS)
        parts.push(`${(0,format/* plural */.LS)(located - MAX_ANNOTATIONS, 'more finding')} not annotated (limit ${MAX_ANNOTATIONS}; all are listed above and in the job summary)`);
    if (withoutFile)
        parts.push(`${(0,format/* plural */.LS)(withoutFile, 'finding')} without a file (about the database), listed above`);
    return parts.length ? `\n<sub>${parts.join(' · ')}.</sub>\n` : '';
}
function toApi(annotation) {
    return {
        path: annotation.file,
        start_line: annotation.line ?? 1,
        end_line: annotation.line ?? 1,
        annotation_level: LEVEL[annotation.severity],
        title: annotation.title,
        message: annotation.message,
        ...(annotation.details ? { raw_details: annotation.details } : {}),
    };
}
async function publishCheckRun(octokit, request) {
    const located = request.annotations.filter((a) => Boolean(a.file));
    const posted = located.slice(0, MAX_ANNOTATIONS).map(toApi);
    const batches = [];
    for (let i = 0; i < posted.length; i += ANNOTATIONS_PER_REQUEST)
        batches.push(posted.slice(i, i + ANNOTATIONS_PER_REQUEST));
    const summary = request.summary + annotationNote(located.length, request.annotations.length - located.length);
    const output = (annotations) => ({ title: request.title, summary, ...(annotations.length ? { annotations } : {}) });
    const { data } = await octokit.rest.checks.create({
        owner: request.owner,
        repo: request.repo,
        name: request.name,
        head_sha: request.headSha,
        status: 'completed',
        conclusion: CONCLUSION[request.status],
        completed_at: new Date().toISOString(),
        ...(request.detailsUrl ? { details_url: request.detailsUrl } : {}),
        output: output(batches[0] ?? []),
    });
    for (const batch of batches.slice(1)) {
        await octokit.rest.checks.update({ owner: request.owner, repo: request.repo, check_run_id: data.id, output: output(batch) });
    }
    return {
        id: data.id,
        ...(data.html_url ? { url: data.html_url } : {}),
        annotated: posted.length,
        notAnnotated: located.length - posted.length,
        withoutFile: request.annotations.length - located.length,
        requests: Math.max(1, batches.length),
    };
}

;// CONCATENATED MODULE: ./src/github/issue.ts

const ISSUE_LABEL = 'postgate';
async function findOpen(octokit, request, self) {
    const found = [];
    const pages = octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
        owner: request.owner,
        repo: request.repo,
        labels: ISSUE_LABEL,
        state: 'open',
        per_page: 100,
    });
    for await (const page of pages) {
        for (const issue of page.data) {
            if (!issue.pull_request && issue.body?.includes(request.marker) && writtenBy(self, issue.user))
                found.push({ number: issue.number, html_url: issue.html_url });
        }
    }
    return found.sort((a, b) => a.number - b.number);
}
async function closeDuplicates(octokit, request, keep, others) {
    for (const issue of others) {
        await octokit.rest.issues.createComment({
            owner: request.owner,
            repo: request.repo,
            issue_number: issue.number,
            body: `Duplicate of #${keep}: postgate tracks this gate there.`,
        });
        await octokit.rest.issues.update({ owner: request.owner, repo: request.repo, issue_number: issue.number, state: 'closed', state_reason: 'not_planned' });
    }
    return others.length;
}
async function trackIssue(octokit, request) {
    const { owner, repo } = request;
    const self = await tokenIdentity(octokit);
    let open = await findOpen(octokit, request, self);
    let duplicatesClosed = 0;
    if (!request.failing) {
        if (!open.length)
            return { state: 'none', duplicatesClosed };
        const [first, ...rest] = open;
        duplicatesClosed = await closeDuplicates(octokit, request, first.number, rest);
        await octokit.rest.issues.createComment({ owner, repo, issue_number: first.number, body: `✅ Passing again: ${request.runLine}. Closing.` });
        await octokit.rest.issues.update({ owner, repo, issue_number: first.number, state: 'closed', state_reason: 'completed', body: request.body });
        return { state: 'closed', number: first.number, ...(first.html_url ? { url: first.html_url } : {}), duplicatesClosed };
    }
    let state = 'updated';
    if (!open.length) {
        const { data } = await octokit.rest.issues.create({ owner, repo, title: request.title, body: request.body, labels: [ISSUE_LABEL] });
        state = 'opened';
        // Another run may have opened one at the same time: keep the oldest, close the rest.
        open = await findOpen(octokit, request, self);
        if (!open.some((issue) => issue.number === data.number))
            open.push({ number: data.number, html_url: data.html_url });
        open.sort((a, b) => a.number - b.number);
        if (open[0].number !== data.number)
            state = 'updated';
    }
    const [first, ...rest] = open;
    duplicatesClosed = await closeDuplicates(octokit, request, first.number, rest);
    if (state === 'updated') {
        await octokit.rest.issues.update({ owner, repo, issue_number: first.number, title: request.title, body: request.body });
        await octokit.rest.issues.createComment({ owner, repo, issue_number: first.number, body: `❌ Still failing: ${request.runLine}.` });
    }
    return { state, number: first.number, ...(first.html_url ? { url: first.html_url } : {}), duplicatesClosed };
}

;// CONCATENATED MODULE: ./src/github/publish.ts










/** GitHub rejects comment and issue bodies over 65,536 characters; keep a margin. */
const COMMENT_LIMIT = 65_000;
/** Check run output.summary: 65,535 characters; room is kept for the annotation note. */
const CHECK_SUMMARY_LIMIT = 65_000;
/** Each step's job summary: 1 MiB. */
const JOB_SUMMARY_LIMIT = 1_000_000;
/** Workflow-command annotations shown per type per step. */
const ANNOTATIONS_PER_TYPE = 10;
const CHANNEL_NAME = { comment: 'the PR comment', checkRun: 'the check run', issue: 'the tracking issue' };
const PERMISSION = { comment: 'pull-requests: write', checkRun: 'checks: write', issue: 'issues: write' };
function markerSafe(text) {
    return text.replace(/[^A-Za-z0-9._:/@-]+/g, '_');
}
function commentMarker(gate, target) {
    return `<!-- postgate:comment gate=${gate}${target ? ` target=${markerSafe(target)}` : ''} -->`;
}
function issueMarker(gate, target) {
    return `<!-- postgate:issue gate=${gate}${target ? ` target=${markerSafe(target)}` : ''} -->`;
}
function isFailure(outcome) {
    return outcome?.state === 'failed';
}
async function publish(request, io) {
    const { result, run } = request;
    const octokit = request.octokit && prepareOctokit(request.octokit, request.retry ?? DEFAULT_RETRY);
    const title = `postgate ${(0,report_text/* gateTitle */.KS)(result.gate)}${request.target ? ` (${request.target})` : ''}`;
    const links = run.owner && run.repo && run.sha
        ? { serverUrl: run.serverUrl, repository: `${run.owner}/${run.repo}`, sha: run.sha, ...(run.workspace ? { workspace: run.workspace } : {}) }
        : undefined;
    const jobSummary = run.runUrl ? `[the job summary](${run.runUrl})` : 'the job summary of this run';
    const facts = contextFacts(request, links);
    const outcome = { annotations: { written: 0, notWritten: 0 }, summaryWritten: false };
    const failures = [];
    let unavailable = false;
    const attempt = async (channel, fn) => {
        if (unavailable) {
            const failure = { kind: 'unavailable', attempts: 0, message: 'not tried: GitHub was unavailable for an earlier request' };
            failures.push({ channel, failure });
            return { state: 'failed', failure };
        }
        try {
            return await fn(octokit);
        }
        catch (error) {
            const failure = classify(error);
            if (failure.kind === 'unavailable')
                unavailable = true;
            failures.push({ channel, failure });
            return { state: 'failed', failure };
        }
    };
    const limit = (max, reason) => ({ max, unit: 'characters', reason, fullReport: jobSummary });
    try {
        if (octokit && run.owner && run.repo) {
            const repo = { owner: run.owner, repo: run.repo };
            if (run.pullRequest) {
                const pr = run.pullRequest;
                if (request.comment !== 'never') {
                    const marker = commentMarker(result.gate, request.target);
                    const body = (0,report_markdown/* renderMarkdown */.Gc)(result, {
                        rules: request.rules,
                        marker,
                        ...(links ? { links } : {}),
                        context: [...facts, ...(run.runUrl ? [`[run](${run.runUrl})`] : [])],
                        limit: limit(COMMENT_LIMIT, "GitHub's 65,536-character limit for comments"),
                    });
                    outcome.comment = await attempt('comment', (o) => upsertComment(o, { ...repo, number: pr.number }, marker, body, wantsNewComment(request.comment, result)));
                }
                const counts = (0,types/* countBySeverity */.Ot)(result.findings);
                outcome.checkRun = await attempt('checkRun', (o) => publishCheckRun(o, {
                    ...repo,
                    headSha: pr.headSha,
                    name: title,
                    status: result.status,
                    title: result.status === 'error' ? 'Could not run' : `${result.status === 'pass' ? 'Passed' : 'Failed'}: ${(0,format/* countsText */.WN)(counts)}`,
                    summary: (0,report_markdown/* renderMarkdown */.Gc)(result, {
                        rules: request.rules,
                        ...(links ? { links } : {}),
                        context: facts,
                        limit: limit(CHECK_SUMMARY_LIMIT, "GitHub's 65,535-character limit for check run summaries"),
                    }),
                    annotations: (0,annotations/* annotationsOf */.Ih)(result, run.workspace),
                    ...(run.runUrl ? { detailsUrl: run.runUrl } : {}),
                }));
            }
            else if (run.tracksIssue && request.comment !== 'never') {
                const marker = issueMarker(result.gate, request.target);
                const runLine = `${run.runUrl ? `[run](${run.runUrl})` : 'this run'}${run.sha ? ` at ${run.sha.slice(0, 7)}` : ''}: ${result.status === 'error' ? 'could not run' : (0,format/* countsText */.WN)((0,types/* countBySeverity */.Ot)(result.findings))}`;
                const body = (0,report_markdown/* renderMarkdown */.Gc)(result, {
                    rules: request.rules,
                    marker,
                    preface: `_This issue is kept up to date by postgate${run.workflow ? ` in the workflow **${run.workflow}**` : ''}: each failing run updates it, and the first passing run closes it._`,
                    ...(links ? { links } : {}),
                    context: [...facts, ...(run.runUrl ? [`[run](${run.runUrl})`] : []), new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC'],
                    limit: limit(COMMENT_LIMIT, "GitHub's 65,536-character limit for issues"),
                });
                outcome.issue = await attempt('issue', (o) => trackIssue(o, {
                    ...repo,
                    marker,
                    title: `${title} ${result.status === 'error' ? 'could not run' : 'is failing'}`,
                    body,
                    failing: result.status !== 'pass',
                    runLine,
                }));
            }
        }
        else if (!octokit && (run.pullRequest || run.tracksIssue)) {
            io.info(`${title}: no github-token, so no PR comment, check run or issue; the results are in the job summary and annotations.`);
        }
        if (!outcome.checkRun || isFailure(outcome.checkRun)) {
            outcome.annotations = writeAnnotations(io, (0,annotations/* annotationsOf */.Ih)(result, run.workspace), {
                ...request.annotationsUsed,
                warning: (request.annotationsUsed?.warning ?? 0) + (failures.length ? 1 : 0),
            }, jobSummary);
        }
        if (failures.length) {
            outcome.warning = degradedWarning(title, failures, run, result);
            io.warning(outcome.warning);
        }
    }
    finally {
        outcome.summaryWritten = await writeSummary(request, io, links, facts, outcome.warning);
    }
    return outcome;
}
function contextFacts(request, links) {
    const facts = [];
    if (links)
        facts.push(`commit [\`${links.sha.slice(0, 7)}\`](${links.serverUrl}/${links.repository}/commit/${links.sha})`);
    if (request.target)
        facts.push(`database \`${request.target}\``);
    return facts;
}
async function writeSummary(request, io, links, facts, warning) {
    const where = request.reportPath
        ? `the JSON report (\`${request.reportPath}\`, output \`report-path\`; keep it with actions/upload-artifact)`
        : 'the JSON report (input `report-path`)';
    const markdown = (0,report_markdown/* renderMarkdown */.Gc)(request.result, {
        rules: request.rules,
        ...(links ? { links } : {}),
        context: facts,
        ...(warning ? { preface: `> [!WARNING]\n> ${warning}` } : {}),
        limit: { max: JOB_SUMMARY_LIMIT, unit: 'bytes', reason: "GitHub's 1 MiB limit for a step's job summary", fullReport: where },
    });
    try {
        await io.summary(markdown);
        return true;
    }
    catch (error) {
        io.info((0,secrets/* redact */.E$)(`postgate: could not write the job summary: ${error.message}`));
        return false;
    }
}
/**
 * Workflow-command annotations: GitHub shows 10 of each type per step. When findings of a type
 * do not fit, the last slot says how many were left out and where they are.
 */
function writeAnnotations(io, annotations, used, jobSummary) {
    let written = 0;
    let notWritten = 0;
    const where = jobSummary.replace(/^\[([^\]]+)\]\(([^)]+)\)$/, '$1 ($2)');
    for (const severity of types/* SEVERITIES */.oC) {
        const list = annotations.filter((a) => a.severity === severity);
        const room = Math.max(0, ANNOTATIONS_PER_TYPE - (used[severity] ?? 0));
        if (list.length <= room) {
            for (const a of list)
                io.annotate(a);
            written += list.length;
            continue;
        }
        const shown = list.slice(0, Math.max(0, room - 1));
        for (const a of shown)
            io.annotate(a);
        written += shown.length;
        notWritten += list.length - shown.length;
        const note = `${(0,format/* plural */.LS)(list.length - shown.length, `more ${severity} finding`)} not annotated here (GitHub shows ${ANNOTATIONS_PER_TYPE} ${severity} annotations per step); every finding is in ${where} and the JSON report.`;
        if (room > 0)
            io.annotate({ severity, title: `postgate: ${(0,format/* plural */.LS)(list.length - shown.length, `${severity} finding`)} not annotated`, message: note });
        else
            io.info(note);
    }
    return { written, notWritten };
}
function joinNames(names) {
    return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}
function degradedWarning(title, failures, run, result) {
    const reasons = [];
    const denied = failures.filter((f) => f.failure.kind === 'denied');
    if (denied.length) {
        const http = `HTTP ${denied[0].failure.status}: ${denied[0].failure.message}`;
        reasons.push(run.pullRequest?.fromFork
            ? `${joinNames(denied.map((f) => CHANNEL_NAME[f.channel]))} (${http}): this pull request comes from a fork, and GitHub gives fork pull requests a read-only token`
            : `${joinNames(denied.map((f) => CHANNEL_NAME[f.channel]))} (${http}): the token may not write there; give the workflow ${joinNames([...new Set(denied.map((f) => `\`${PERMISSION[f.channel]}\``))])} in \`permissions\``);
    }
    const down = failures.filter((f) => f.failure.kind === 'unavailable');
    if (down.length) {
        const first = down[0].failure;
        reasons.push(`${joinNames(down.map((f) => CHANNEL_NAME[f.channel]))}: GitHub's API kept failing (${first.status ? `HTTP ${first.status}: ` : ''}${first.message}, ${(0,format/* plural */.LS)(first.attempts, 'attempt')})`);
    }
    const other = failures.filter((f) => f.failure.kind === 'rejected' || f.failure.kind === 'failed');
    for (const f of other)
        reasons.push(`${CHANNEL_NAME[f.channel]}: GitHub rejected the request (HTTP ${f.failure.status}: ${f.failure.message})`);
    return (0,secrets/* redact */.E$)(`${title}: could not post ${reasons.join('; ')}. The results are in the job summary and the annotations; the gate's verdict (${result.status}) is unchanged.`);
}

// EXTERNAL MODULE: ./src/postgres/connect.ts
var connect = __webpack_require__(36741);
// EXTERNAL MODULE: ./src/postgres/ephemeral/index.ts + 2 modules
var ephemeral = __webpack_require__(27837);
// EXTERNAL MODULE: ./src/postgres/scratch-databases.ts
var scratch_databases = __webpack_require__(59830);
// EXTERNAL MODULE: ./src/postgres/url.ts
var url = __webpack_require__(88638);
// EXTERNAL MODULE: ./src/report/inert.ts
var inert = __webpack_require__(51822);
// EXTERNAL MODULE: ./src/report/sarif.ts
var report_sarif = __webpack_require__(10643);
;// CONCATENATED MODULE: ./src/action/run-action.ts
/**
 * The adapter every action's main.ts calls: read inputs, run the gate, publish the result
 * (JSON report, SARIF, outputs, PR comment, check run, issue, job summary, annotations), set
 * the verdict. The same bundle is the `post` step: it then reaps whatever the main step left
 * running. Reporting problems never change the verdict: exit 0 pass, 1 fail, 2 could not run.
 */

























const MAIN_PID_STATE = 'postgate-main-pid';
/** The main step's run token: the post step drops the scratch databases signed with it. */
const RUN_STATE = 'postgate-run';
/**
 * Counts warnings, because each one is a workflow annotation (10 per type per step).
 * `core.info` writes its text raw to the step's log, where the runner acts on workflow commands:
 * log lines can quote untrusted text (extension names from migrations, a server's log), so they
 * go through `inertLog`. `core.warning`, `core.error` and `core.group` escape their text already.
 */
function actionLogger() {
    const logger = {
        warnings: 0,
        info: (message) => core/* info */.pq((0,inert/* inertLog */.H_)((0,secrets/* redact */.E$)(message))),
        warn: (message) => {
            logger.warnings += 1;
            core/* warning */.$e((0,secrets/* redact */.E$)(message));
        },
        // A failed step is said after its group, where it shows while the group is folded.
        step: async (name, fn, failure) => {
            let end;
            try {
                return await core/* group */.Os((0,secrets/* redact */.E$)(name), () => (0,step/* runStep */.e)(fn, failure, (ended) => (end = ended)));
            }
            finally {
                if (end?.failed)
                    core/* info */.pq((0,inert/* inertLog */.H_)((0,secrets/* redact */.E$)((0,step/* stepEndLine */.m)(name, end))));
            }
        },
    };
    return logger;
}
const actionsIO = {
    summary: async (markdown) => {
        await core/* summary */.z.addRaw(markdown).write();
    },
    annotate: (annotation) => {
        const properties = {
            title: annotation.title,
            ...(annotation.file ? { file: annotation.file, startLine: annotation.line ?? 1 } : {}),
        };
        if (annotation.severity === 'error')
            core/* error */.z3(annotation.message, properties);
        else if (annotation.severity === 'warning')
            core/* warning */.$e(annotation.message, properties);
        else
            core/* notice */.lm(annotation.message, properties);
    },
    info: (message) => core/* info */.pq((0,inert/* inertLog */.H_)((0,secrets/* redact */.E$)(message))),
    warning: (message) => core/* warning */.$e(message),
};
/** The database a run looked at (host:port/db, never credentials): one comment or issue per target. */
function describeTarget(read) {
    for (const name of ['database-url', 'source-database-url']) {
        const raw = read(name).trim();
        if (!raw)
            continue;
        try {
            const target = (0,url/* parseDatabaseUrl */.mx)(raw, name);
            return `${target.host}:${target.port}/${target.database}`;
        }
        catch {
            return undefined;
        }
    }
    return undefined;
}
/** Scratch databases the main step left on the servers it was given (it was killed before dropping them). */
async function reapScratchOnServers(gate, run) {
    let reaped = 0;
    for (const input of ['shadow-database-url', 'target-database-url'].filter((name) => name in gates/* GATES */.JH[gate].inputs)) {
        const url = core/* getInput */.V4(input).trim();
        if (!url)
            continue;
        try {
            reaped += await (0,connect/* withSession */.fQ)(url, { gate: 'cleanup', readOnly: false, inputName: input }, (admin) => (0,scratch_databases/* reapScratchDatabases */.b1)(admin, { run }));
        }
        catch {
            core/* warning */.$e(`postgate: could not reach \`${input}\` to drop scratch databases the main step may have left; the next run against that server drops them.`);
        }
    }
    return reaped;
}
async function runAction(gate) {
    const mainPid = core/* getState */.Gu(MAIN_PID_STATE);
    if (mainPid) {
        const reaped = (0,ephemeral/* reapOrphans */.a6)({ ownerPid: Number(mainPid) }) + (await reapScratchOnServers(gate, core/* getState */.Gu(RUN_STATE)));
        if (reaped)
            core/* info */.pq(`postgate: cleaned up ${reaped} leftover resource(s) from the main step.`);
        return;
    }
    core/* saveState */.LZ(MAIN_PID_STATE, String(process.pid));
    core/* saveState */.LZ(RUN_STATE, scratch_databases/* RUN_TOKEN */.u8);
    (0,ephemeral/* stopCleanlyOnSignals */.nx)();
    (0,secrets/* onSecretRegistered */.AF)((form) => core/* setSecret */.Pq(form));
    // The runner passes action.yml defaults as if given; an input equal to its default counts as
    // not given (as on the CLI), so e.g. a missing default config file means "no config".
    const inputs = gates/* GATES */.JH[gate].inputs;
    const read = (name) => {
        const value = core/* getInput */.V4(name);
        return value === inputs[name]?.default ? '' : value;
    };
    (0,secrets/* registerSecret */.cl)(read('github-token'));
    const cwd = process.env.GITHUB_WORKSPACE || process.cwd();
    // Every gate masks (and the runner's masker hears of) the secrets the job gives it: the webhook
    // secrets' variables, the database passwords and the inputs marked secret.
    (0,job_secrets/* registerJobSecrets */.gp)({ gate, read, surface: 'action', env: process.env, cwd });
    const logger = actionLogger();
    let result;
    try {
        ({ result } = await (0,invoke/* invokeGate */.Q)(gate, read, 'action', { cwd, log: logger }));
    }
    finally {
        await (0,ephemeral/* cleanupAll */.Gt)();
    }
    try {
        await report(gate, result, read, logger);
    }
    catch (error) {
        core/* warning */.$e((0,secrets/* redact */.E$)(`postgate: could not publish every result (${error.message}); the verdict is unchanged.`));
    }
    finally {
        setVerdict(gate, result);
    }
}
async function report(gate, result, read, logger) {
    const counts = (0,types/* countBySeverity */.Ot)(result.findings);
    core/* setOutput */.uH('status', result.status);
    core/* setOutput */.uH('errors', counts.error);
    core/* setOutput */.uH('warnings', counts.warning);
    core/* setOutput */.uH('notices', counts.notice);
    for (const [name, spec] of Object.entries(gates/* GATES */.JH[gate].outputs)) {
        const value = spec.metricMs ? result.metrics[spec.metricMs] : undefined;
        if (value !== undefined)
            core/* setOutput */.uH(name, Math.round(value / 1000));
    }
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    const target = describeTarget(read);
    // A report-path outside the workspace and the temp directories is refused (the run's error says so):
    // the report then goes where it goes by default, so that the error is still on record.
    const defaultReport = external_node_path_default().join(process.env.RUNNER_TEMP || external_node_os_default().tmpdir(), `postgate-${gate}.json`);
    const reportPath = confinedOutput('report-path', read, workspace, logger, result) ?? defaultReport;
    const written = writeFile(reportPath, (0,report_text/* renderJson */.hF)(result), 'JSON report', logger);
    if (written)
        core/* setOutput */.uH('report-path', reportPath);
    const sarifPath = confinedOutput('sarif-path', read, workspace, logger, result);
    if (sarifPath) {
        const sarif = (0,report_sarif/* renderSarif */.W)(result, { rules: rules_catalog/* RULE_CATALOG */.P, workspace, ...(target ? { target } : {}) });
        if (writeFile(sarifPath, sarif.text, 'SARIF file', logger))
            core/* setOutput */.uH('sarif-path', sarifPath);
        if (sarif.unlocated) {
            core/* info */.pq(`postgate: ${sarif.unlocated} finding(s) have no file location (they are about the database) and are not in the SARIF file; they are in the job summary and the JSON report.`);
        }
    }
    const mode = read('comment').trim().toLowerCase();
    const token = read('github-token').trim();
    await publish({
        result,
        rules: rules_catalog/* RULE_CATALOG */.P,
        run: (0,context/* readRunContext */.$)(),
        ...(token ? { octokit: github/* getOctokit */.Q(token) } : {}),
        comment: COMMENT_MODES.includes(mode) ? mode : 'auto',
        ...(target ? { target } : {}),
        ...(written ? { reportPath } : {}),
        annotationsUsed: { error: result.status === 'pass' ? 0 : 1, warning: logger.warnings },
    }, actionsIO);
}
/**
 * A path input postgate writes to, resolved from the workspace, when it stays inside the workspace
 * or a temporary directory (src/config/paths.ts); else undefined, with a warning unless that is
 * already the run's error.
 */
function confinedOutput(name, read, workspace, logger, result) {
    const raw = read(name).trim();
    if (!raw)
        return undefined;
    try {
        return (0,paths/* confinePath */.ey)(raw, { label: (0,input_spec/* inputLabel */.NB)(name, 'action'), base: workspace });
    }
    catch (error) {
        if (error.message !== result.error)
            logger.warn(`postgate: ${error.message}`);
        return undefined;
    }
}
function writeFile(file, content, what, logger) {
    try {
        (0,external_node_fs_.mkdirSync)(external_node_path_default().dirname(file), { recursive: true });
        (0,external_node_fs_.writeFileSync)(file, content);
        return true;
    }
    catch (error) {
        logger.warn(`postgate: could not write the ${what} to ${file}: ${error.message}`);
        return false;
    }
}
function setVerdict(gate, result) {
    const title = gates/* GATES */.JH[gate].title;
    if (result.status === 'error') {
        core/* setFailed */.C1((0,secrets/* redact */.E$)(`${title} could not run: ${result.error}`));
        process.exitCode = 2;
    }
    else if (result.status === 'fail') {
        core/* setFailed */.C1(`${title} failed: ${(0,format/* countsText */.WN)((0,types/* countBySeverity */.Ot)(result.findings))}.`);
    }
    else {
        core/* info */.pq(`${title} passed.`);
    }
}


/***/ })

};
