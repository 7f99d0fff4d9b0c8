export const worldValuesBenchResolver = { describe: "worldvaluesbench", resolve: () => false, listIds: () => [] as string[] };
