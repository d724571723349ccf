from geoborder.cli.main import main

main()
