import type { CodegenConfig } from '@graphql-codegen/cli'
import { lexicographicSortSchema, printSchema } from 'graphql'
import { schema } from './src/schema/index.js'

// The schema is code-first (Pothos): codegen reads the built schema, printed in a stable order so that
// schema.graphql changes only when the schema does.
const sdl = printSchema(lexicographicSortSchema(schema))

const config: CodegenConfig = {
  schema: sdl,
  documents: 'test/documents/*.graphql',
  generates: {
    'schema.graphql': { plugins: ['schema-ast'] },
    'test/generated/operations.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        scalars: { DateTime: 'string' },
        useTypeImports: true,
        enumsAsTypes: true,
      },
    },
  },
}

export default config
