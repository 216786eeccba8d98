import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DockerfileParser, type Instruction } from 'dockerfile-ast'

export const ROOT = resolve(import.meta.dirname, '../..')

export interface Stage {
  name: string | undefined
  image: string
  tag: string | undefined
  digest: string | undefined
  instructions: Instruction[]
}

/** The Dockerfile split into its stages, each with the instructions that follow its FROM. */
export function readStages(file = resolve(ROOT, 'Dockerfile')): Stage[] {
  const dockerfile = DockerfileParser.parse(readFileSync(file, 'utf8'))
  const stages: Stage[] = []
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const from = dockerfile
        .getFROMs()
        .find((candidate) => candidate.getRange().start.line === instruction.getRange().start.line)
      stages.push({
        name: from?.getBuildStage() ?? undefined,
        image: from?.getImageName() ?? '',
        tag: from?.getImageTag() ?? undefined,
        digest: from?.getImageDigest() ?? undefined,
        instructions: [],
      })
    } else {
      stages.at(-1)?.instructions.push(instruction)
    }
  }
  return stages
}

export function withKeyword(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.getKeyword() === keyword)
}

export function flags(instruction: Instruction): Record<string, string> {
  const found = (
    instruction as Instruction & { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> }
  ).getFlags?.()
  return Object.fromEntries((found ?? []).map((flag) => [flag.getName(), flag.getValue() ?? '']))
}

/** The words of an instruction, flags left out: `COPY --from=build /app/dist ./dist` -> ['/app/dist', './dist']. */
export function words(instruction: Instruction): string[] {
  return instruction.getArguments().map((argument) => argument.getValue())
}

/** An exec-form command (`["node", "dist/main.js"]`), from CMD or from HEALTHCHECK's CMD. */
export function execForm(instruction: Instruction): string[] {
  const text = instruction.getArgumentsContent() ?? ''
  const json = instruction.getKeyword() === 'HEALTHCHECK' ? text.replace(/^CMD\s+/, '') : text
  return JSON.parse(json) as string[]
}

/** ENV instructions as a map: `ENV A=1 B=2` -> { A: '1', B: '2' }. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {}
  for (const instruction of withKeyword(stage, 'ENV')) {
    for (const word of words(instruction)) {
      const [name, ...value] = word.split('=')
      if (name) env[name] = value.join('=')
    }
  }
  return env
}
