/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** An ISO-8601 date-time in UTC, such as 2026-11-28T20:01:52.123Z. */
  DateTime: { input: string; output: string; }
};

/** Server connections to this database by state. Other roles’ sessions count only when the service role may read all statistics (pg_monitor). */
export type Connections = {
  __typename?: 'Connections';
  active: Scalars['Int']['output'];
  idle: Scalars['Int']['output'];
  /** The server’s max_connections. */
  max: Scalars['Int']['output'];
};

/** What the database is and holds, from read-only catalog queries. */
export type Database = {
  __typename?: 'Database';
  connections: Connections;
  /** True on a standby (replica). */
  inRecovery: Scalars['Boolean']['output'];
  name: Scalars['String']['output'];
  serverVersion: Scalars['String']['output'];
  sizeBytes: Scalars['Float']['output'];
  tables: TableConnection;
  uptimeSeconds: Scalars['Float']['output'];
};


/** What the database is and holds, from read-only catalog queries. */
export type DatabaseTablesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  includeSystem?: InputMaybe<Scalars['Boolean']['input']>;
  schema?: InputMaybe<Scalars['String']['input']>;
};

/** The result of one live check of the database connection. */
export type Health = {
  __typename?: 'Health';
  /** When the check started. */
  checkedAt: Scalars['DateTime']['output'];
  /** CONTAINER_NAME of this instance. */
  container: Scalars['String']['output'];
  /** True when the database answered within the timeout. */
  healthy: Scalars['Boolean']['output'];
  /** How long the check took, in milliseconds. */
  latencyMs: Scalars['Float']['output'];
  /** null when healthy; otherwise a short fixed reason such as "connection refused" or "timeout". */
  reason?: Maybe<Scalars['String']['output']>;
  /** "Healthy!" or "Unhealthy", as the original /health endpoint said. */
  status: Scalars['String']['output'];
};

export type PageInfo = {
  __typename?: 'PageInfo';
  /** Pass as `after` for the next page. */
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

/** Whether the service can reach its PostgreSQL database, and what that database holds. */
export type Query = {
  __typename?: 'Query';
  /** The database itself. Fails with DATABASE_UNAVAILABLE when it cannot be reached. */
  database: Database;
  /** Checks the database now (SELECT 1). A dead database is reported here, not raised as an error. */
  health: Health;
  /** How many tables the service database user can see. With no arguments this is exactly the original `SELECT count(*) FROM information_schema.tables`, system catalogs included. Fails with extensions.code DATABASE_UNAVAILABLE when the database cannot be reached. */
  numberOfTables: Scalars['Int']['output'];
};


/** Whether the service can reach its PostgreSQL database, and what that database holds. */
export type QueryNumberOfTablesArgs = {
  includeSystem?: InputMaybe<Scalars['Boolean']['input']>;
  schema?: InputMaybe<Scalars['String']['input']>;
};

/** Live updates, over Server-Sent Events (GraphQL over SSE). */
export type Subscription = {
  __typename?: 'Subscription';
  /** The current health report at once, then a new one each time the database becomes reachable or unreachable. */
  healthChanged: Health;
};

export type Table = {
  __typename?: 'Table';
  kind: TableKind;
  name: Scalars['String']['output'];
  /** The planner’s row estimate; null until the table is first analyzed. */
  rowEstimate?: Maybe<Scalars['Float']['output']>;
  schema: Scalars['String']['output'];
  /** Table, indexes and TOAST (pg_total_relation_size). */
  sizeBytes: Scalars['Float']['output'];
};

/** One page of tables, ordered by schema then name. */
export type TableConnection = {
  __typename?: 'TableConnection';
  nodes: Array<Table>;
  pageInfo: PageInfo;
  /** All the tables that match, on every page: the same number as numberOfTables. */
  totalCount: Scalars['Int']['output'];
};

export type TableKind =
  | 'FOREIGN_TABLE'
  | 'PARTITIONED_TABLE'
  | 'TABLE'
  | 'VIEW';

export type HealthQueryVariables = Exact<{ [key: string]: never; }>;


export type HealthQuery = { health: { healthy: boolean, status: string, container: string, latencyMs: number, checkedAt: string, reason: string | null } };

export type NumberOfTablesQueryVariables = Exact<{
  schema?: string | null | undefined;
  includeSystem?: boolean | null | undefined;
}>;


export type NumberOfTablesQuery = { numberOfTables: number };

export type DefaultNumberOfTablesQueryVariables = Exact<{ [key: string]: never; }>;


export type DefaultNumberOfTablesQuery = { numberOfTables: number };


export const HealthDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Health"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"health"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"healthy"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"container"}},{"kind":"Field","name":{"kind":"Name","value":"latencyMs"}},{"kind":"Field","name":{"kind":"Name","value":"checkedAt"}},{"kind":"Field","name":{"kind":"Name","value":"reason"}}]}}]}}]} as unknown as DocumentNode<HealthQuery, HealthQueryVariables>;
export const NumberOfTablesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"NumberOfTables"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"schema"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"includeSystem"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Boolean"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"numberOfTables"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"schema"},"value":{"kind":"Variable","name":{"kind":"Name","value":"schema"}}},{"kind":"Argument","name":{"kind":"Name","value":"includeSystem"},"value":{"kind":"Variable","name":{"kind":"Name","value":"includeSystem"}}}]}]}}]} as unknown as DocumentNode<NumberOfTablesQuery, NumberOfTablesQueryVariables>;
export const DefaultNumberOfTablesDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"DefaultNumberOfTables"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"numberOfTables"}}]}}]} as unknown as DocumentNode<DefaultNumberOfTablesQuery, DefaultNumberOfTablesQueryVariables>;