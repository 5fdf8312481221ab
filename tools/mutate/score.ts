/**
 * Mutation scores from Stryker's results: timeouts count as killed,
 * equivalent mutants (listed in `equivalents.ts`) and ignored ones are left
 * out. Score = killed ÷ (killed + survived).
 *
 * @module
 */

/** The part of a Stryker `MutantResult` the scores read. */
export interface MutantOutcome {
  mutatorName: string;
  replacement?: string;
  status: string;
  location: {
    start: { line: number; column: number };
    end: { line: number; column: number };
  };
}

/** A mutant known to behave as the original, so no test can kill it. */
export interface Equivalent {
  /** The module, relative to the project root. */
  file: string;
  /** Stryker's mutator name, e.g. "EqualityOperator". */
  mutator: string;
  /** The code the mutant replaces, exactly; ending in "…", its beginning (for long blocks). */
  original: string;
  /** What it puts there, exactly. */
  replacement: string;
  /**
   * Text the source line where the mutant starts must contain, to tell apart
   * a short code that occurs on many lines (a `true` in one call among many).
   */
  line?: string;
  /** The kind, for docs/mutation.md's list. */
  kind: string;
}

/** One survivor, for the report. */
export interface Survivor {
  line: number;
  mutator: string;
  original: string;
  replacement: string;
}

/** The counts of one module. */
export interface ModuleScore {
  killed: number;
  timedOut: number;
  survived: number;
  equivalent: number;
  ignored: number;
  errors: number;
  survivors: Survivor[];
}

/** The source text a location spans (lines 1-based, columns 1-based as Stryker reports them). */
export function textAt(
  source: string,
  location: MutantOutcome["location"],
): string {
  const lines = source.split("\n");
  const { start, end } = location;
  if (start.line === end.line) {
    return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  }
  const middle = lines.slice(start.line, end.line - 1);
  return [
    lines[start.line - 1].slice(start.column - 1),
    ...middle,
    lines[end.line - 1].slice(0, end.column - 1),
  ].join("\n");
}

/** Whether `code` is what `listed` names: equal, or starting with it when it ends in "…". */
export function sameCode(listed: string, code: string): boolean {
  return listed.endsWith("…") ? code.startsWith(listed.slice(0, -1)) : listed === code;
}

/** Counts a module's results; survivors matching an equivalent of `file` are counted apart. */
export function scoreModule(
  file: string,
  source: string,
  results: readonly MutantOutcome[],
  equivalents: readonly Equivalent[],
): ModuleScore {
  const score: ModuleScore = {
    killed: 0,
    timedOut: 0,
    survived: 0,
    equivalent: 0,
    ignored: 0,
    errors: 0,
    survivors: [],
  };
  const known = equivalents.filter((e) => e.file === file);
  const lines = source.split("\n");
  for (const result of results) {
    switch (result.status) {
      case "Killed":
        score.killed++;
        break;
      case "Timeout":
        score.timedOut++;
        break;
      case "Ignored":
        score.ignored++;
        break;
      case "Survived":
      case "NoCoverage": {
        const original = textAt(source, result.location);
        const replacement = result.replacement ?? "";
        const equivalent = known.some((e) =>
          e.mutator === result.mutatorName && sameCode(e.original, original) &&
          e.replacement === replacement &&
          (e.line === undefined ||
            lines[result.location.start.line - 1].includes(e.line))
        );
        if (equivalent) {
          score.equivalent++;
        } else {
          score.survived++;
          score.survivors.push({
            line: result.location.start.line,
            mutator: result.mutatorName,
            original,
            replacement,
          });
        }
        break;
      }
      default:
        score.errors++;
    }
  }
  score.survivors.sort((a, b) => a.line - b.line);
  return score;
}

/** Killed (timeouts included) ÷ (killed + survived), in percent; `undefined` with no mutants. */
export function percent(
  score: Pick<ModuleScore, "killed" | "timedOut" | "survived">,
) {
  const detected = score.killed + score.timedOut;
  const total = detected + score.survived;
  return total === 0 ? undefined : (100 * detected) / total;
}

/** Adds module scores up (for a folder). */
export function sumScores(scores: readonly ModuleScore[]): ModuleScore {
  const sum: ModuleScore = {
    killed: 0,
    timedOut: 0,
    survived: 0,
    equivalent: 0,
    ignored: 0,
    errors: 0,
    survivors: [],
  };
  for (const s of scores) {
    sum.killed += s.killed;
    sum.timedOut += s.timedOut;
    sum.survived += s.survived;
    sum.equivalent += s.equivalent;
    sum.ignored += s.ignored;
    sum.errors += s.errors;
  }
  return sum;
}

/** The file Stryker's incremental results of a module live in. */
export function cacheFile(module: string, folder = ".mutation-cache"): string {
  return `${folder}/${module.replace(/\.ts$/, "").replaceAll("/", "__")}.json`;
}

/** The part of Stryker's incremental report (mutation-testing-report-schema) the cache rewrites. */
export interface IncrementalReport {
  files?: Record<string, { mutants: { status: string }[] }>;
}

/**
 * Drops, in place, the mutants that were not killed (nor timed out) from an
 * incremental report, so Stryker runs them again; returns how many. Its
 * command runner reports no per-test coverage and so would reuse every old
 * result: this is what is done when a module's tests changed.
 */
export function forgetUnkilled(report: IncrementalReport): number {
  let forgotten = 0;
  for (const entry of Object.values(report.files ?? {})) {
    const kept = entry.mutants.filter((m) => m.status === "Killed" || m.status === "Timeout");
    forgotten += entry.mutants.length - kept.length;
    entry.mutants = kept;
  }
  return forgotten;
}
