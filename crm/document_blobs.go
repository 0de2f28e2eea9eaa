package crm

import "context"

// removeBlobs deletes document contents nothing refers to any more.
func (c *core) removeBlobs(ctx context.Context, orgID string, shas []string) error {
	for _, sha := range shas {
		if err := c.removeBlob(ctx, orgID, sha); err != nil {
			return err
		}
	}
	return nil
}

// dropFiles deletes a customer's documents and mails in tx, letting go of
// their contents: the SHA-256s no one uses any more are added to released,
// for removeBlobs once the transaction committed. Anonymisation and
// deletion both use it.
func (c *core) dropFiles(ctx context.Context, tx Store, orgID, customerID string, released *[]string) error {
	release := func(sha string) error {
		unused, err := tx.BlobRelease(ctx, orgID, sha)
		if err == nil && unused {
			*released = append(*released, sha)
		}
		return err
	}
	docs, err := tx.DocumentList(ctx, orgID, customerID, false)
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := tx.DocumentDelete(ctx, orgID, d.ID); err != nil {
			return err
		}
		if err := release(d.SHA256); err != nil {
			return err
		}
	}
	// Mails carry the customer's name and address; pending ones also hold
	// their attachments' contents.
	held, err := tx.OutboxDeleteOf(ctx, orgID, customerID)
	if err != nil {
		return err
	}
	for _, a := range held {
		if err := release(a.SHA256); err != nil {
			return err
		}
	}
	return nil
}
