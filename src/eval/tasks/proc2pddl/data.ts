// Proc2PDDL data (GitHub zharry29/proc2pddl): one folder per wikiHow domain, `pddl_data/<id>/` holding
// domain.pddl, domain_header.pddl, actions.txt, action_step_map.txt, wikihow-*.txt and problems/*.pddl.
// The evaluator reads `pddl_evaluation/true/<id>/`, which differs from pddl_data for 4 domains (114406878,
// 115030714, 115033247, 115230790: edited goals or renamed actions): when
// both exist, prompts come from pddl_data and evaluation files from pddl_evaluation/true.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatasetNotFoundError, type DatasetSource } from '../../data/source.ts';
import { datasetFolders } from '../../data/dataset-files.ts';

export const PROC2PDDL_PATH = 'zharry29/proc2pddl';

export interface Proc2PddlDomain {
  id: string;
  /** folder the prompt files were read from */
  dir: string;
  /** folder the evaluation files were read from */
  evalDir: string;
  domainHeader: string;
  goldDomain: string;
  actionsTxt: string;
  actionStepMap: string | null;
  wikihow: string | null;
  wikihowFile: string | null;
  problems: { name: string; text: string }[];
}

export class Proc2PddlDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Proc2PddlDataError';
  }
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

function readIn(dirs: string[], name: string, required: boolean, id: string): { text: string; file: string } | null {
  for (const d of dirs) {
    const f = join(d, name);
    if (existsSync(f)) return { text: readFileSync(f, 'utf8'), file: f };
  }
  if (required) throw new Proc2PddlDataError(`Proc2PDDL domain ${id}: missing ${name} (looked in ${dirs.join(', ')})`);
  return null;
}

/** Domain folders (those holding domain_header.pddl) of a pddl_data-style folder, sorted by id. */
export function domainIds(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => isDir(join(dir, f)) && existsSync(join(dir, f, 'domain_header.pddl')))
    .sort();
}

/** Read every domain of `dir` (prompt files), taking evaluation files from `evalDir` when it has the domain. */
export function loadProc2PddlDomains(dir: string, evalRoot?: string | null): Proc2PddlDomain[] {
  const ids = domainIds(dir);
  if (ids.length === 0)
    throw new Proc2PddlDataError(`${dir}: no Proc2PDDL domain folders (subfolders with domain_header.pddl)`);
  return ids.map((id) => {
    const pdir = join(dir, id);
    const edir = evalRoot && isDir(join(evalRoot, id)) ? join(evalRoot, id) : pdir;
    const evalDirs = edir === pdir ? [pdir] : [edir, pdir];
    const probDir = isDir(join(edir, 'problems')) ? join(edir, 'problems') : join(pdir, 'problems');
    if (!isDir(probDir))
      throw new Proc2PddlDataError(`Proc2PDDL domain ${id}: no problems/ folder in ${evalDirs.join(' or ')}`);
    const problems = readdirSync(probDir)
      .filter((f) => f.endsWith('.pddl'))
      .sort()
      .map((name) => ({ name, text: readFileSync(join(probDir, name), 'utf8') }));
    if (problems.length === 0)
      throw new Proc2PddlDataError(`Proc2PDDL domain ${id}: ${probDir} has no .pddl problem files`);
    const wiki = readdirSync(pdir)
      .filter((f) => f.startsWith('wikihow') && f.endsWith('.txt'))
      .sort()[0];
    return {
      id,
      dir: pdir,
      evalDir: edir,
      domainHeader: readIn(evalDirs, 'domain_header.pddl', true, id)!.text,
      goldDomain: readIn(evalDirs, 'domain.pddl', true, id)!.text,
      actionsTxt: readIn(evalDirs, 'actions.txt', true, id)!.text,
      actionStepMap: readIn([pdir], 'action_step_map.txt', false, id)?.text ?? null,
      wikihow: wiki ? readFileSync(join(pdir, wiki), 'utf8') : null,
      wikihowFile: wiki ? join(pdir, wiki) : null,
      problems,
    };
  });
}

function firstFile(files: string[]): string | null {
  return files.find((f) => existsSync(f)) ?? null;
}

/**
 * Where the data is: an explicit folder, $OLMO_PROC2PDDL_DIR, or `<root>/zharry29/proc2pddl` of the source's
 * local folders (a clone of the repository: pddl_data/ + pddl_evaluation/true/, or a folder of domain folders). The prompt
 * templates are the clone's predict_scripts/prompts.json, or prompt_templates.json / prompts.json beside the domains.
 */
export function resolveProc2PddlData(
  source: DatasetSource | null,
  explicit?: string | null,
): { dir: string; evalRoot: string | null; templatesFile: string | null } {
  const tried: string[] = [];
  const candidates = [
    explicit,
    process.env.OLMO_PROC2PDDL_DIR,
    ...(source ? datasetFolders(source, PROC2PDDL_PATH) : []),
  ].filter((x): x is string => !!x);
  for (const c of candidates) {
    const data = join(c, 'pddl_data');
    const truth = join(c, 'pddl_evaluation', 'true');
    tried.push(c);
    const templatesFile = firstFile([
      join(c, 'predict_scripts', 'prompts.json'),
      join(c, 'prompt_templates.json'),
      join(c, 'prompts.json'),
    ]);
    if (isDir(data) && domainIds(data).length > 0)
      return { dir: data, evalRoot: isDir(truth) ? truth : null, templatesFile };
    if (isDir(truth) && domainIds(truth).length > 0) return { dir: truth, evalRoot: null, templatesFile };
    if (isDir(c) && domainIds(c).length > 0) return { dir: c, evalRoot: null, templatesFile };
  }
  throw new DatasetNotFoundError(
    `Proc2PDDL data not found (looked in ${tried.join(', ') || 'no folders: give a data folder or set OLMO_PROC2PDDL_DIR'}). ` +
      `Clone it with \`git clone https://github.com/zharry29/proc2pddl <data>/${PROC2PDDL_PATH}\`.`,
  );
}
