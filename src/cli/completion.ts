/**
 * Shell completion, made from the declared commands: `source <(vesta completion bash)` (bash) or
 * `source <(vesta completion zsh)` (zsh, through bashcompinit). Completes command words, the second
 * word of a group (`lease grant`), each command's options, and the values of an option that
 * declares them (`--output json|table|yaml`); file names elsewhere (`@file` bodies).
 */
import type { Command } from './command';
import type { OptionDecls } from './options';

export const SHELLS = ['bash', 'zsh'] as const;
export type Shell = (typeof SHELLS)[number];

const flagsOf = (options: OptionDecls): string[] => Object.keys(options).map((name) => `--${name}`);

/** `--name` of every option that declares its values, with those values (of all commands that declare it). */
function choicesOf(decls: readonly OptionDecls[]): Map<string, string[]> {
  const choices = new Map<string, string[]>();
  for (const options of decls)
    for (const [name, d] of Object.entries(options))
      if (d.choices) choices.set(`--${name}`, [...new Set([...(choices.get(`--${name}`) ?? []), ...d.choices])]);
  return choices;
}

/** The completion script for `shell`. Never throws. */
export function completionScript(shell: Shell, commands: readonly Command[], common: OptionDecls): string {
  const first = [...new Set(commands.map((c) => c.name.split(' ')[0]))];
  const groups = first.filter((w) => commands.some((c) => c.name.startsWith(`${w} `)));
  const commonFlags = flagsOf(common).join(' ');
  const valued = Object.entries(common)
    .filter(([, d]) => d.type === 'string')
    .map(([name]) => `--${name}`);
  const seconds = groups.map((g) => {
    const words = commands.filter((c) => c.name.startsWith(`${g} `)).map((c) => c.name.split(' ')[1]);
    return `    ${g}) words="${words.join(' ')}" ;;`;
  });
  const options = commands.map((c) => `    "${c.name}") flags="${flagsOf(c.options).join(' ')}" ;;`);
  const values = [...choicesOf([common, ...commands.map((c) => c.options)])].map(
    ([flag, words]) => `    ${flag}) COMPREPLY=($(compgen -W "${words.join(' ')}" -- "$cur")); return ;;`,
  );
  const script = [
    '# vesta shell completion (made by `vesta completion`)',
    '_vesta() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" i w command="" words="" flags=""',
    '  case "${COMP_WORDS[COMP_CWORD-1]}" in',
    ...values,
    '  esac',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    w="${COMP_WORDS[i]}"',
    `    case "$w" in ${valued.join('|')}) ((i++)); continue ;; -*) continue ;; esac`,
    '    if [[ -z "$command" ]]; then command="$w"; else',
    `      case "$command" in ${groups.join('|')}) [[ "$command" == *" "* ]] || command="$command $w" ;; esac`,
    '    fi',
    '  done',
    '  if [[ -z "$command" ]]; then',
    `    COMPREPLY=($(compgen -W "${first.join(' ')} --help --version" -- "$cur"))`,
    '    return',
    '  fi',
    '  case "$command" in',
    ...seconds,
    '  esac',
    '  if [[ -n "$words" && "$cur" != -* ]]; then',
    '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '    return',
    '  fi',
    '  case "$command" in',
    ...options,
    '  esac',
    '  if [[ "$cur" == -* ]]; then',
    `    COMPREPLY=($(compgen -W "$flags ${commonFlags}" -- "$cur"))`,
    '  elif [[ "$cur" == @* ]]; then',
    '    COMPREPLY=($(compgen -f -P @ -- "${cur#@}"))',
    '  else',
    '    COMPREPLY=($(compgen -f -- "$cur"))',
    '  fi',
    '}',
    'complete -F _vesta vesta',
    '',
  ];
  return shell === 'zsh' ? ['autoload -U +X bashcompinit && bashcompinit', ...script].join('\n') : script.join('\n');
}
