import type { Command } from 'commander';
import type { CommandContext, CommandOutcome } from '../cli-context';

/** Runs a command body with its context; the program prints the outcome. */
export type CommandRunner = (cmd: Command, body: (ctx: CommandContext) => Promise<CommandOutcome>) => Promise<void>;
