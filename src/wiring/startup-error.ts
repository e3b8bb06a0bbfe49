/** Why this Helm does not start: every problem in plain words (main.ts prints them and exits). */
export class StartupError extends Error {
  constructor(readonly problems: string[]) {
    super(`Helm cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = this.constructor.name;
  }
}
