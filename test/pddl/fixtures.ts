// Small self-made domains and problems for the PDDL tests, and access to the shared Proc2PDDL samples.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PROC2PDDL_DIR = path.resolve(projectRoot, '..', 'shared', 'fixtures', 'benchmarks', 'proc2pddl');
export const PROC2PDDL_SKIP = existsSync(PROC2PDDL_DIR)
  ? false
  : `Proc2PDDL samples not found at ${PROC2PDDL_DIR} (they live in the shared workspace, not in the project)`;
export const PROC2PDDL_IDS = ['114061278', '114756331', '114905535'];

/** A tiny typed domain with a type hierarchy, a constant and a negative precondition. */
export const ROOMS_DOMAIN = `; rooms and keys
(define (domain rooms)
  (:requirements :strips :typing :negative-preconditions)
  (:types item agent room - object  key - item)
  (:constants master - key)
  (:predicates (at ?x ?r - room) (holding ?a - agent ?i - item) (locked ?r - room) (door ?a ?b - room))
  (:action move
    :parameters (?a - agent ?from ?to - room)
    :precondition (and (at ?a ?from) (door ?from ?to) (not (locked ?to)))
    :effect (and (at ?a ?to) (not (at ?a ?from))))
  (:action take
    :parameters (?a - agent ?i - item ?r - room)
    :precondition (and (at ?a ?r) (at ?i ?r))
    :effect (and (holding ?a ?i) (not (at ?i ?r))))
  (:action unlock
    :parameters (?a - agent ?r - room)
    :precondition (and (holding ?a master) (locked ?r))
    :effect (not (locked ?r))))
`;

export const ROOMS_PROBLEM = `(define (problem fetch)
  (:domain rooms)
  (:objects bob - agent hall kitchen vault - room coin - item)
  (:init (at bob hall) (at master kitchen) (at coin vault) (locked vault)
         (door hall kitchen) (door kitchen hall) (door kitchen vault) (door vault kitchen))
  (:goal (and (holding bob coin) (at bob hall))))
`;
