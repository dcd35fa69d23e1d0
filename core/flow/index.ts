/** The flow: its file schema (zod, versioned; shared with the renderer) and loading/opening one. */
export * from './schema';
export * from './load';
