// Types of the test runner's exported helpers, for test/scripts/run-tests.test.ts.
export interface TapSkip {
  name: string;
  reason: string;
}
export declare const ALLOWED_CI_SKIPS: { test: RegExp; why: string }[];
export declare function isCi(value: string | undefined): boolean;
export declare function tapSkips(tap: string): TapSkip[];
export declare function unexpectedSkips(skips: TapSkip[], sharedPresent: boolean): TapSkip[];
