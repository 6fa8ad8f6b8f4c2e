"""Building the book: the chapter registry and its execution (:mod:`~helpers.build.book`), the
headless-browser check of the rendered pages (:mod:`~helpers.build.browser`) and the book on a
reader's own folder of images (:mod:`~helpers.build.ownfolder`)."""
