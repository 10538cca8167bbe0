// Search terms for LIKE/ILIKE: the caller's own `%`, `_` and `\` are taken literally.

/** `%term%`: rows whose text contains `term`. */
export const containsPattern = (term: string): string => `%${term.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
