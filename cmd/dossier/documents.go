package main

import (
	"path/filepath"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/diskblob"
)

// defaultDataDir is where serve keeps its files unless told otherwise,
// relative to the working directory.
const defaultDataDir = "dossier-data"

// dataDirFlag defines --data-dir, the directory of the documents' contents.
func (fs *flagSet) dataDirFlag(p *string) {
	fs.envString(p, "data-dir", "DOSSIER_DATA_DIR", defaultDataDir,
		"`directory` for files: documents' contents go to its blobs directory, which every server and command on the same database must share")
}

// openBlobs returns the store of document contents under dataDir,
// creating the directories.
func openBlobs(dataDir string) (crm.BlobStore, error) {
	if dataDir == "" {
		return nil, usageErrorf("--data-dir must not be empty")
	}
	blobs, err := diskblob.New(filepath.Join(dataDir, "blobs"))
	if err != nil {
		return nil, err
	}
	return blobs, nil
}
