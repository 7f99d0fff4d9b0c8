// Types of scripts/build-dashboard.mjs for the TypeScript tests that import it.
export declare function buildDashboard(outDir: string): Promise<{ outDir: string; files: string[] }>;
