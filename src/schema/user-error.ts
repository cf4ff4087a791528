import { builder } from './builder';

/** A problem with the input that the caller can fix; nothing was created or changed. */
export const UserError = builder.objectRef<{ code: string; field: string[] | null; message: string }>('UserError').implement({
  description: 'A problem with the input that the caller can fix; nothing was created or changed',
  fields: (t) => ({
    code: t.exposeString('code'),
    field: t.exposeStringList('field', { nullable: true, description: 'Path of the offending input field' }),
    message: t.exposeString('message'),
  }),
});
