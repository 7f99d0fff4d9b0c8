// A blocksworld generator (4-operator version with a hand) for tests and benchmarks of the planners.
import { mulberry32 } from '../random/index.ts';

export const BLOCKSWORLD_DOMAIN = `(define (domain blocksworld)
  (:requirements :strips :typing)
  (:types block)
  (:predicates (on ?x - block ?y - block) (ontable ?x - block) (clear ?x - block) (handempty) (holding ?x - block))
  (:action pick-up
    :parameters (?x - block)
    :precondition (and (clear ?x) (ontable ?x) (handempty))
    :effect (and (not (ontable ?x)) (not (clear ?x)) (not (handempty)) (holding ?x)))
  (:action put-down
    :parameters (?x - block)
    :precondition (holding ?x)
    :effect (and (not (holding ?x)) (clear ?x) (handempty) (ontable ?x)))
  (:action stack
    :parameters (?x - block ?y - block)
    :precondition (and (holding ?x) (clear ?y))
    :effect (and (not (holding ?x)) (not (clear ?y)) (clear ?x) (handempty) (on ?x ?y)))
  (:action unstack
    :parameters (?x - block ?y - block)
    :precondition (and (on ?x ?y) (clear ?x) (handempty))
    :effect (and (holding ?x) (clear ?y) (not (clear ?x)) (not (handempty)) (not (on ?x ?y)))))
`;

/** Random towers: a shuffled list of blocks cut at random points; returns towers bottom → top. */
function randomTowers(blocks: string[], r: () => number): string[][] {
  const b = blocks.slice();
  for (let i = b.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [b[i], b[j]] = [b[j], b[i]];
  }
  const towers: string[][] = [];
  let cur: string[] = [];
  for (const x of b) {
    cur.push(x);
    if (r() < 0.3) {
      towers.push(cur);
      cur = [];
    }
  }
  if (cur.length) towers.push(cur);
  return towers;
}

function towerFacts(towers: string[][]): string[] {
  const out: string[] = [];
  for (const t of towers) {
    out.push(`(ontable ${t[0]})`);
    for (let i = 1; i < t.length; i++) out.push(`(on ${t[i]} ${t[i - 1]})`);
    out.push(`(clear ${t[t.length - 1]})`);
  }
  return out;
}

/** A random blocksworld problem with n blocks: random initial towers, goal = the `on` facts of other towers. */
export function blocksworldProblem(n: number, seed = 1): string {
  const r = mulberry32(seed);
  const blocks = Array.from({ length: n }, (_, i) => `b${i + 1}`);
  const init = towerFacts(randomTowers(blocks, r));
  let goal = towerFacts(randomTowers(blocks, r)).filter((f) => f.startsWith('(on '));
  if (goal.length === 0) goal = [`(on ${blocks[0]} ${blocks[1] ?? blocks[0]})`];
  return `(define (problem bw-${n}-${seed}) (:domain blocksworld)
  (:objects ${blocks.join(' ')} - block)
  (:init (handempty) ${init.join(' ')})
  (:goal (and ${goal.join(' ')})))
`;
}
