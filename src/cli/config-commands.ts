/**
 * `vesta config set|get|unset`: the URL (and for a deployed stack the AWS profile and region)
 * remembered in the settings file (`config.ts`), so that other commands need no `--url`.
 */
import type { Command, CommandContext } from './command';
import { CONFIG_KEYS, checkConfigValue, configKey, configPath, readConfig, writeConfig } from './config';
import { DEFAULT_URL } from './connection';
import { UsageError } from './errors';

const WHERE = [
  'The settings file is $VESTA_CONFIG, else $XDG_CONFIG_HOME/vesta/config.json, else',
  '~/.config/vesta/config.json. A command takes the URL from --url, else $VESTA_URL, else this',
  `file (its regions before its url), else ${DEFAULT_URL}; --regions comes after --url and`,
  'before $VESTA_URL. The profile from --profile, else $AWS_PROFILE, else this',
  'file; the region from --region, else the execute-api URL, else this file, else $AWS_REGION.',
].join('\n');

const KEYS = `<name> is one of ${CONFIG_KEYS.join(', ')}.`;

export const configSetCommand: Command = {
  name: 'config set',
  args: ['name', 'value'],
  summary: 'remember the API URL (or Regions, AWS profile, region) for later commands',
  about: [
    `Stores <value> under <name> and prints the settings. ${KEYS}`,
    "  url                     an http(s) URL: the local stack, or a deployed stack's",
    '                          https://<api-id>.execute-api.<region>.amazonaws.com/<stage>',
    '  regions                 the URL of each Region of a deployment, instead of url:',
    '                          eu-west-1=https://...,us-east-1=https://... (the first',
    '                          preferred unless region names another; failover in order)',
    '  profile                 the AWS profile whose credentials sign requests to a deployed stack',
    '  region                  the AWS region, when the URL does not name it; with',
    '                          regions, the Region to prefer',
    WHERE,
  ].join('\n'),
  options: {},
  async run({ args: [name, value], io, output }: CommandContext) {
    const key = configKey(name, 'config set');
    const checked = checkConfigValue(key, value);
    const path = configPath(io.env);
    const config = { ...readConfig(path), [key]: checked };
    writeConfig(path, config);
    output.print(config);
  },
};

export const configGetCommand: Command = {
  name: 'config get',
  args: [],
  checksOwnArgs: true,
  usage: '[<name>]',
  summary: 'print the remembered settings, or one of them',
  about: [
    `Without <name>, prints the settings file as JSON ({} when there is none). With <name>, prints`,
    `its value alone (nothing when it is not set). ${KEYS}`,
    WHERE,
  ].join('\n'),
  options: {},
  async run({ args, io, output }: CommandContext) {
    if (args.length > 1)
      throw new UsageError(`config get expects at most one <name>; received ${args.length} arguments`, 'config get');
    const path = configPath(io.env);
    const config = readConfig(path);
    if (args.length === 0) return output.print(config);
    const key = configKey(args[0], 'config get');
    const value = config[key];
    if (value !== undefined) io.out(`${value}\n`);
    else io.err(`note: ${key} is not set in ${path}\n`);
  },
};

export const configUnsetCommand: Command = {
  name: 'config unset',
  args: ['name'],
  summary: 'forget a remembered setting',
  about: [`Removes <name> from the settings file and prints the settings left. ${KEYS}`, WHERE].join('\n'),
  options: {},
  async run({ args: [name], io, output }: CommandContext) {
    const key = configKey(name, 'config unset');
    const path = configPath(io.env);
    const { [key]: _gone, ...rest } = readConfig(path);
    writeConfig(path, rest);
    output.print(rest);
  },
};
