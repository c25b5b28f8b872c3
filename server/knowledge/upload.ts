import type { RequestHandler } from 'express';
import multer from 'multer';
import { AppError } from '../errors/app-error.js';
import type { UploadedFile } from './sources.service.js';

/**
 * Reads a `multipart/form-data` upload (one `file` plus short text fields) into
 * memory, answering 413 past the size limit. JSON bodies pass through untouched.
 */
export function uploadMiddleware(maxBytes: number): RequestHandler {
  const single = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxBytes, files: 1, fields: 5, fieldSize: 1_000, parts: 8 },
  }).single('file');
  return (req, res, next) => {
    if (!req.is('multipart/form-data')) return next();
    single(req, res, (error: unknown) => {
      if (!error) {
        // The form names no type: an upload is a file source.
        req.body = { type: 'file', ...(req.body as Record<string, unknown>) };
        return next();
      }
      if (error instanceof multer.MulterError && error.code === 'LIMIT_FILE_SIZE') {
        return next(
          new AppError('PayloadTooLargeError', {
            message: `The file is larger than the limit of ${maxBytes} bytes`,
            details: { limit: maxBytes },
          }),
        );
      }
      if (error instanceof multer.MulterError && error.code === 'LIMIT_UNEXPECTED_FILE') {
        // Multer says only "Unexpected field": a file under another name, or a second file.
        return next(
          new AppError('BadRequestError', {
            message: 'Upload one document in a field named "file"',
            details: { field: (error.field ?? '').slice(0, 100) },
          }),
        );
      }
      const message = error instanceof multer.MulterError ? error.message : 'The upload could not be read';
      next(new AppError('BadRequestError', { message }));
    });
  };
}

/** The uploaded file of a request, if any. */
export function uploadedFile(file: Express.Multer.File | undefined): UploadedFile | null {
  if (!file) return null;
  return { name: file.originalname || 'upload', mimeType: file.mimetype || '', data: file.buffer };
}
