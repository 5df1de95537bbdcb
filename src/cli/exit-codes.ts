export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** restic's convention: the snapshot was saved, but some files could not be read. */
export const EXIT_PARTIAL = 3;
