from codefoundry.cli import main

main()
