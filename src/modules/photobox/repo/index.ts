// All of the photobox module's SQL, one file per table group; every function takes the handle it runs on.
export * from './catalog.ts';
export * from './kiosks.ts';
export * from './photos.ts';
export * from './tables.ts';
export * from './transactions.ts';
